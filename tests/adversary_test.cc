// The adversary suite: attacks on a live overlay of real vt-source, vt-relay
// and vt-sink processes on loopback, by peers written here on lib/rpc and the
// generated Overlay stubs (each attacker a node with an identity of its own),
// by the fake relay of tests/support/fake_relay.h, and by vt-inspect call.
// In every test the honest viewers write the source's input byte for byte
// and no honest node exits non-zero:
//  - joins on behalf of another node (to evict it, or to take its place),
//    directly and through vt-inspect call, and a stranger's swap;
//  - a joiner that claims a third party's address as its own;
//  - a forged redirect to a viewer from a node that is not its parent;
//  - ghost children: they join and open feeds, send heartbeats, never read;
//  - a black-hole parent: it answers joins, feeds and heartbeats, sends no
//    chunk, in every stripe of one viewer and in two of another's;
//  - a flood of joins from fresh identities that never open their feeds.
// Tests wait on log lines, replies and exits with generous deadlines.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/crypto/peer_id.h"
#include "lib/kernel/subprocess.h"
#include "lib/rpc/node.h"
#include "proto/overlay.pidl.rpc.h"
#include "tests/support/fake_relay.h"
#include "tests/support/overlay_harness.h"
#include "tests/support/runfiles.h"

namespace {

namespace asio = boost::asio;
namespace overlay = vt::overlay;
using peers::ExitStatus;
using peers::rpc::CallOptions;
using peers::rpc::Task;
using vt::test::FakeRelayHost;
using vt::test::FeedScript;
using vt::test::peer_of;
using vt::test::read_file;
using vt::test::short_of;
using vt::test::Tool;
using vt::test::ts_clip;
using namespace std::chrono_literals;

// Attacking peers: rpc::Nodes with identities of their own, listening on
// loopback, all on one event-loop thread. The test thread runs coroutines on
// it and waits for their results.
class Attackers {
 public:
  Attackers() : guard_(io_.get_executor()) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Attackers() {
    asio::post(io_, [this] {
      stopping_ = true;
      for (auto& n : nodes_) n->close();
    });
    guard_.reset();
    auto until = std::chrono::steady_clock::now() + 3s;
    while (!io_.stopped() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(10ms);
    io_.stop();
    thread_.join();
  }

  // A new identity, listening on loopback.
  peers::rpc::Node& fresh() {
    return *asio::co_spawn(
                io_,
                [this]() -> Task<peers::rpc::Node*> {
                  nodes_.push_back(std::make_unique<peers::rpc::Node>(io_.get_executor(),
                                                                      peers::Identity::generate()));
                  nodes_.back()->listen("127.0.0.1:0").value();
                  co_return nodes_.back().get();
                },
                asio::use_future)
                .get();
  }

  // Runs `task` on the attackers' thread; its result, or its exception.
  template <typename T>
  T run(Task<T> task) {
    return asio::co_spawn(io_, std::move(task), asio::use_future).get();
  }

  asio::any_io_executor executor() { return io_.get_executor(); }
  bool stopping() const { return stopping_; }

 private:
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::unique_ptr<peers::rpc::Node>> nodes_;
  bool stopping_ = false;
  std::thread thread_;
};

overlay::PeerInfo info_of(const peers::rpc::Node& n, std::uint32_t capacity, overlay::Role role) {
  overlay::PeerInfo p;
  p.id = n.id().to_string();
  p.addr = n.listen_addr();
  p.capacity = capacity;
  p.role = role;
  return p;
}

// Sends `req` to the node at addr from `from`; "" when it was served, else
// the error's code name and message.
Task<std::string> try_join(peers::rpc::Node& from, std::string addr, overlay::JoinRequest req) {
  try {
    auto cop = from.connect(addr);
    auto conn = co_await std::move(cop);
    auto jop = overlay::OverlayClient(conn).join(req, CallOptions{5s});
    co_await std::move(jop);
    co_return "";
  } catch (const peers::Error& e) {
    co_return std::string(peers::errc_name(e.code())) + ": " + e.message();
  }
}

// A ghost child: joins every stripe of the node at addr as a leaf, opens its
// feeds and sends heartbeats, but never reads a chunk, so it grants no
// credit. Returns the feeds (kept open by the caller) once all are open.
// `claimed` is the address it gives as its own ("": its real one).
Task<std::vector<std::shared_ptr<peers::rpc::DataChannel>>> haunt(Attackers& a,
                                                                  peers::rpc::Node& ghost,
                                                                  std::string addr,
                                                                  std::string claimed = "") {
  auto cop = ghost.connect(addr);
  auto conn = co_await std::move(cop);
  overlay::OverlayClient client(conn);
  auto sop = client.stream();
  overlay::StreamInfo info = co_await std::move(sop);
  std::vector<std::shared_ptr<peers::rpc::DataChannel>> feeds;
  for (std::uint32_t i = 0; i < info.stripes; ++i) {
    overlay::JoinRequest req;
    req.stripe = i;
    req.joiner = info_of(ghost, 0, overlay::Role::kSink);
    if (!claimed.empty()) req.joiner.addr = claimed;
    auto jop = client.join(req);
    overlay::JoinReply reply = co_await std::move(jop);
    overlay::FeedRequest f;
    f.stripe = i;
    f.ticket = reply.ticket;
    auto fop = client.feed(f);
    auto [freply, channel] = co_await std::move(fop);
    feeds.push_back(channel);
    // Heartbeats until the parent no longer knows it.
    asio::co_spawn(
        a.executor(),
        [&a, conn, i]() -> Task<void> {
          while (!a.stopping()) {
            asio::steady_timer t(co_await asio::this_coro::executor, 250ms);
            auto wait = t.async_wait(asio::use_awaitable);
            co_await std::move(wait);
            overlay::Heartbeat hb;
            hb.stripe = i;
            try {
              auto op = overlay::OverlayClient(conn).heartbeat(hb, CallOptions{2s});
              co_await std::move(op);
            } catch (const std::exception&) {
              co_return;
            }
          }
        },
        asio::detached);
  }
  co_return feeds;
}

class Adversary : public vt::test::OverlayHarness {
 protected:
  ExitStatus wait_exit(Tool& t, std::chrono::milliseconds timeout) {
    auto st = t.proc->wait(timeout);
    EXPECT_TRUE(st) << t.name << ": " << st.error().what() << "\n" << t.log_text();
    return st ? *st : ExitStatus::exited(-1);
  }

  // Starts a viewer that may have to wait for a slot (--join-timeout 30s)
  // without waiting for it to join.
  Tool start_waiting_sink(const std::string& name, const std::string& join) {
    return start("vt-sink", name,
                 {"--join", join, "--output", dir_ + "/" + name + ".out", "--buffer", "2s",
                  "--source-key", source_id_, "--upload", "0", "--join-timeout", "30s"});
  }

  // The viewer exits 0 having written a suffix of `clip`: what it played
  // from its start, every byte.
  void expect_suffix(Tool& sink, const std::string& clip) {
    EXPECT_EQ(wait_exit(sink, 60s), ExitStatus::exited(0)) << sink.log_text();
    std::string out = read_file(dir_ + "/" + sink.name + ".out");
    ASSERT_FALSE(out.empty()) << sink.log_text();
    EXPECT_TRUE(clip.compare(clip.size() - out.size(), out.size(), out) == 0)
        << sink.name << "'s output is not a suffix of the input\n"
        << sink.log_text();
  }

  // Feeds `clip` at a live pace (`seconds` long), calling `at_half` once.
  void feed_live(Tool& source, const std::string& clip, int seconds,
                 const std::function<void()>& at_half = {}) {
    feed(source, clip, clip.size() / (static_cast<std::size_t>(seconds) * 50), at_half);
  }
};

TEST_F(Adversary, JoinsForOtherNodesEvictNobody) {
  // The attack of the issue: a join naming a child of the source as the
  // node it would swap with, sent for that child (or for a made-up id), to
  // the source directly and through vt-inspect call; then a stranger's own
  // swap over a relay it is not a child of. All are refused with a typed
  // error; the relays keep their places and the viewers get every byte.
  Tool source = start_source(4, {"--max-children", "2"});
  Tool r1 = start_relay("r1", source.addr);
  Tool r2 = start_relay("r2", source.addr);
  Tool s1 = start_sink("s1", r1.addr, {"--upload", "0"});
  Tool s2 = start_sink("s2", r2.addr, {"--upload", "0"});
  std::string r1_id = peer_of(r1), r2_id = peer_of(r2);
  ASSERT_FALSE(r1_id.empty());
  ASSERT_FALSE(r2_id.empty());

  Attackers a;
  peers::rpc::Node& evil = a.fresh();
  for (std::uint32_t stripe = 0; stripe < 4; ++stripe) {
    for (const std::string& victim : {r1_id, r2_id}) {
      // For the victim itself: that would replace its slot's owner.
      overlay::JoinRequest req;
      req.stripe = stripe;
      req.here_only = true;
      req.current_parent = victim;
      req.joiner = info_of(evil, 100000, overlay::Role::kRelay);
      req.joiner.id = victim;
      std::string err = a.run(try_join(evil, source.addr, req));
      EXPECT_NE(err.find("permission_denied: a node joins only for itself"), std::string::npos)
          << err;
      // For itself, swapping over a relay it is not a child of.
      req.joiner = info_of(evil, 100000, overlay::Role::kRelay);
      err = a.run(try_join(evil, source.addr, req));
      EXPECT_FALSE(err.empty()) << "the source let a stranger swap over " << short_of(victim);
      EXPECT_TRUE(err.find("no swap") != std::string::npos ||
                  err.find("no room") != std::string::npos)
          << err;
    }
  }
  // The same through vt-inspect call, with a made-up joiner.
  std::string args =
      R"({"stripe":0,"here_only":true,"current_parent":")" + r1_id +
      R"(","joiner":{"id":"x","addr":"127.0.0.1:9","capacity":100000,"role":"RELAY"}})";
  // Without --write vt-inspect does not send it; with it, the node refuses.
  auto plain = peers::Subprocess::run(peers::test::runfile("cmd/vt-inspect/vt-inspect"),
                                      {"call", source.addr, "Overlay.join", args});
  ASSERT_TRUE(plain) << plain.error().what();
  EXPECT_EQ(plain->status, peers::ExitStatus::exited(2)) << plain->err;
  EXPECT_NE(plain->err.find("add --write"), std::string::npos) << plain->err;
  auto call = peers::Subprocess::run(peers::test::runfile("cmd/vt-inspect/vt-inspect"),
                                     {"call", "--write", source.addr, "Overlay.join", args});
  ASSERT_TRUE(call) << call.error().what();
  EXPECT_FALSE(call->status.success()) << call->out;
  EXPECT_NE(call->err.find("joins only for itself"), std::string::npos) << call->err;

  feed(source, ts_clip(), ts_clip().size() / 250);
  expect_complete(s1);
  expect_complete(s2);
  for (Tool* r : {&r1, &r2}) {
    EXPECT_EQ(wait_exit(*r, 60s), ExitStatus::exited(0)) << r->log_text();
    // Never moved by the source.
    EXPECT_TRUE(r->log_lines({"parent redirects"}).empty()) << r->log_text();
    EXPECT_TRUE(r->log_lines({"parent lost"}).empty()) << r->log_text();
  }
  EXPECT_TRUE(source.log_lines({"child dropped", "swapped"}).empty()) << source.log_text();
}

TEST_F(Adversary, AJoinersClaimOfAThirdPartysAddressIsNotPassedOn) {
  // A joiner gives another host's address as its own: its parent would
  // dial that host by reversal and tell its other children to repair
  // there. The source keeps it as a child, in every stripe, with no
  // address (like a node behind a NAT); an honest relay, whose session
  // comes from the address it claims, keeps its own.
  Tool source = start_source(4);
  Tool r1 = start_relay("r1", source.addr);
  std::string r1_id = peer_of(r1);
  ASSERT_FALSE(r1_id.empty());
  Attackers a;
  peers::rpc::Node& liar = a.fresh();
  // Every attacker's session comes from 127.0.0.1; the victim is another
  // loopback address.
  std::string victim = "127.0.0.3:" + r1.addr.substr(r1.addr.rfind(':') + 1);
  auto feeds = a.run(haunt(a, liar, source.addr, victim));
  ASSERT_EQ(feeds.size(), 4u);

  auto st = peers::Subprocess::run(peers::test::runfile("cmd/vt-inspect/vt-inspect"),
                                   {"call", source.addr, "Inspect.status"});
  ASSERT_TRUE(st) << st.error().what();
  ASSERT_TRUE(st->status.success()) << st->err;
  auto status = nlohmann::json::parse(st->out, nullptr, false);
  ASSERT_TRUE(status.is_object()) << st->out;
  int liar_seen = 0, r1_seen = 0;
  for (const auto& stripe : status["stripes"]) {
    for (const auto& child : stripe["children"]) {
      std::string id = child.value("id", ""), addr = child.value("addr", "");
      EXPECT_NE(addr, victim) << "the source passes on a claimed third party's address";
      if (id == liar.id().to_string()) {
        ++liar_seen;
        EXPECT_EQ(addr, "") << child.dump();
      } else if (id == r1_id) {
        ++r1_seen;
        EXPECT_EQ(addr, r1.addr) << child.dump();
      }
    }
  }
  EXPECT_EQ(liar_seen, 4) << status.dump();
  EXPECT_EQ(r1_seen, 4) << status.dump();
}

TEST_F(Adversary, ARedirectFromANodeThatIsNotTheParentIsIgnored) {
  // Redirect is one-way and unanswered: a stranger sends one to a viewer for
  // every stripe, pointing at itself. The viewer keeps its parents.
  Tool source = start_source();
  Tool s1 = start_sink("s1", source.addr, {"--upload", "0"});
  Attackers a;
  peers::rpc::Node& evil = a.fresh();
  a.run([&]() -> Task<int> {
    auto cop = evil.connect(s1.addr);
    auto conn = co_await std::move(cop);
    for (std::uint32_t stripe = 0; stripe < 4; ++stripe) {
      overlay::Redirect r;
      r.stripe = stripe;
      r.via = info_of(evil, 8, overlay::Role::kRelay);
      r.reason = "leaving";
      overlay::OverlayClient(conn).redirect(r);
    }
    // A call after the events: answered once they were handled.
    auto sop = overlay::OverlayClient(conn).stream();
    co_await std::move(sop);
    co_return 0;
  }());
  feed(source, ts_clip(), ts_clip().size() / 250);
  expect_complete(s1);
  EXPECT_TRUE(s1.log_lines({"parent redirects"}).empty()) << s1.log_text();
  EXPECT_TRUE(s1.log_lines({"parent lost"}).empty()) << s1.log_text();
}

TEST_F(Adversary, GhostChildrenAreDroppedWithinSecondsAndRefusedAfter) {
  // The source has 2 slots per stripe: an honest viewer takes one, a ghost
  // the other. The ghost never reads, so its queue ages past the time bound
  // a few seconds into the stream; it is dropped from every stripe, its
  // slot is free again (a viewer that starts then joins and plays from the
  // live edge to the end), and its joins are refused for a while. The
  // honest viewer does not notice.
  const std::string& clip = ts_clip(12);
  ASSERT_FALSE(clip.empty());
  Tool source = start_source(4, {"--max-children", "2"});
  Tool early = start_sink("early", source.addr, {"--upload", "0"});
  Attackers a;
  peers::rpc::Node& ghost = a.fresh();
  auto feeds = a.run(haunt(a, ghost, source.addr));
  ASSERT_EQ(feeds.size(), 4u);
  // The source is full now: a second ghost finds no room.
  peers::rpc::Node& ghost2 = a.fresh();
  EXPECT_THROW(a.run(haunt(a, ghost2, source.addr)), overlay::Full);

  std::string ghost_short = ghost.id().short_id();
  auto ghost_drops = [&] {
    return source.log_lines({"child dropped", "child=" + ghost_short, "too slow"}).size();
  };
  // Live pace; once the source has dropped the ghost from every stripe (an
  // event in its log, not a time), a newcomer starts: the slot is free.
  std::optional<Tool> late;
  feed_ticks(source, clip, clip.size() / (12 * 50), [&](std::size_t tick) {
    if (!late && tick % 10 == 0 && ghost_drops() == 4) {
      late.emplace(start_waiting_sink("late", source.addr));
    }
  });
  expect_complete(early, clip);
  ASSERT_TRUE(late && late->proc)
      << "the ghost was not dropped from every stripe during the stream\n"
      << source.log_text();
  expect_suffix(*late, clip);
  // Dropped from every stripe for taking nothing.
  EXPECT_EQ(ghost_drops(), 4u) << source.log_text();
  // And refused when it asks again.
  overlay::JoinRequest again;
  again.stripe = 0;
  again.joiner = info_of(ghost, 0, overlay::Role::kSink);
  std::string err = a.run(try_join(ghost, source.addr, again));
  EXPECT_NE(err.find("refused here for a while"), std::string::npos) << err;
  EXPECT_EQ(wait_exit(source, 60s), ExitStatus::exited(0)) << source.log_text();
}

TEST_F(Adversary, ABlackHoleParentIsLeftAndNothingIsLost) {
  // The fake relay adopts two viewers and sends them nothing: `all` in every
  // stripe (nothing to compare with: it waits for a long silence), `half`
  // in stripes 0 and 1 while stripes 2 and 3 come from the source (a stall
  // against the stream). Both leave it, resume where their copy of the
  // stream begins, and write every byte.
  const std::string& clip = ts_clip(12);
  ASSERT_FALSE(clip.empty());
  Tool source = start_source(4, {"--max-children", "16"});
  FakeRelayHost fake;
  ASSERT_NO_THROW(fake.join_source(source.addr));
  std::string all_id = make_key("all"), half_id = make_key("half");
  FeedScript silent;
  silent.silent = true;
  fake.relay().set_script(all_id, silent);
  silent.refuse_stripes = {2, 3};
  fake.relay().set_script(half_id, silent);
  Tool all = start_sink("all", fake.addr(),
                        {"--join", source.addr, "--key", dir_ + "/all.key", "--upload", "0"});
  Tool half = start_sink("half", fake.addr(),
                         {"--join", source.addr, "--key", dir_ + "/half.key", "--upload", "0"});
  EXPECT_EQ(all.log_lines({"joined stripe", "parent=" + fake.short_id()}).size(), 4u)
      << all.log_text();
  EXPECT_EQ(half.log_lines({"joined stripe", "parent=" + fake.short_id()}).size(), 2u)
      << half.log_text();
  feed_live(source, clip, 12);
  expect_complete(all, clip);
  expect_complete(half, clip);
  // Left for what it delivered (stalled, or slow: how far behind a stripe
  // got first), in every stripe it held, and never rejoined.
  for (auto [sink, n] : {std::pair{&all, 4u}, std::pair{&half, 2u}}) {
    auto lost = sink->log_lines({"parent lost", "parent=" + fake.short_id()});
    EXPECT_EQ(lost.size(), n) << sink->log_text();
    for (const auto& line : lost) {
      EXPECT_TRUE(line.find("stalled parent") != std::string::npos ||
                  line.find("slow parent") != std::string::npos)
          << line;
    }
    EXPECT_EQ(sink->log_lines({"joined stripe", "parent=" + fake.short_id()}).size(), n)
        << sink->log_text();
  }
}

TEST_F(Adversary, AFloodOfJoinsFromFreshIdentitiesLeavesViewersWhole) {
  // 40 fresh identities each ask for a slot in every stripe and never open
  // a feed. The honest viewer there before keeps every byte; one that
  // starts during the flood joins once the reservations lapse (a few
  // seconds) and plays from the live edge to the end.
  const std::string& clip = ts_clip(12);
  ASSERT_FALSE(clip.empty());
  Tool source = start_source(4, {"--max-children", "4"});
  Tool early = start_sink("early", source.addr, {"--upload", "0"});
  Attackers a;
  int adopted = 0, refused = 0;
  for (int i = 0; i < 40; ++i) {
    peers::rpc::Node& n = a.fresh();
    for (std::uint32_t stripe = 0; stripe < 4; ++stripe) {
      overlay::JoinRequest req;
      req.stripe = stripe;
      // Each claims every stripe as its home: a choke needs a joiner that
      // brings room to the stripe, and an attacker claims what gets most.
      req.home_stripe = stripe;
      req.joiner = info_of(n, 8, overlay::Role::kRelay);
      (a.run(try_join(n, source.addr, req)).empty() ? adopted : refused) += 1;
    }
  }
  // Per stripe: the 3 slots the honest viewer left, and one reservation
  // that would choke the viewer (it uploads nothing) if its joiner opened
  // its feed; nothing more.
  EXPECT_EQ(adopted, 16);
  EXPECT_EQ(refused, 144);
  Tool during = start_waiting_sink("during", source.addr);
  feed_live(source, clip, 12);
  expect_complete(early, clip);
  EXPECT_TRUE(early.log_lines({"parent redirects"}).empty()) << early.log_text();
  expect_suffix(during, clip);
}

// A TCP connection to 127.0.0.1:port that says nothing (-1 on failure).
int stalled_connection(const std::string& addr) {
  auto colon = addr.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1))));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(Adversary, StalledStrangersAreHeldToTheLimitFlags) {
  // --max-handshakes 2: strangers that connect and say nothing hold at most
  // two handshake places; the next is refused at once (logged with its
  // reason), and once they are gone a viewer joins and plays every byte.
  Tool source = start_source(4, {"--max-handshakes", "2", "--max-connections", "64"});
  std::vector<int> fds;
  for (int i = 0; i < 6; ++i) fds.push_back(stalled_connection(source.addr));
  for (int fd : fds) EXPECT_GE(fd, 0);
  EXPECT_TRUE(source.wait_log("reason=too_many_handshakes")) << source.log_text();
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  Tool sink = start_sink("s1", source.addr, {"--upload", "0"});
  feed(source, ts_clip(), ts_clip().size() / 250);
  expect_complete(sink);
}

}  // namespace
