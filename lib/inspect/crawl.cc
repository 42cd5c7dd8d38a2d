#include "lib/inspect/crawl.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

#include "lib/inspect/within.h"
#include "proto/inspect.pidl.rpc.h"

namespace vt {

namespace asio = boost::asio;
using peers::Errc;
using peers::Error;
using peers::rpc::Task;
using std::chrono::steady_clock;

std::string problem_of(const Error& e) {
  if (e.type_name() == inspect::Denied::kTypeName) return "denied";
  switch (e.code()) {
    case Errc::kUnavailable:
    case Errc::kConnectionLost:
      return "unreachable";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kAuth:
      return "wrong_peer";
    case Errc::kProtocol:
      return "protocol";
    case Errc::kUnknownMethod:
      return "no_inspect";
    default:
      return "error";
  }
}

Task<CrawledNode> ask_status(peers::rpc::Node& rpc, std::string addr, std::string expected_id,
                             std::chrono::milliseconds timeout) {
  CrawledNode n;
  n.id = expected_id;
  n.addr = addr;
  std::optional<peers::PeerId> expected;
  if (!expected_id.empty()) {
    auto id = peers::PeerId::parse(expected_id);
    if (!id) {
      n.problem = "error";
      n.error = "bad peer id: " + id.error().message();
      co_return n;
    }
    expected = *id;
  }
  if (addr.empty()) {
    n.problem = "unreachable";
    n.error = "it announced no address";
    co_return n;
  }
  peers::rpc::Node* node = &rpc;
  try {
    auto op = within<inspect::NodeStatus>(
        timeout,
        [node, addr, expected, timeout]() -> Task<inspect::NodeStatus> {
          std::shared_ptr<peers::rpc::Connection> conn;
          if (expected) {
            auto cop = node->get_or_connect(*expected, addr);
            conn = co_await std::move(cop);
          } else {
            auto cop = node->connect(addr);
            conn = co_await std::move(cop);
          }
          inspect::InspectClient client(conn);
          auto sop = client.status(peers::rpc::CallOptions{timeout});
          inspect::NodeStatus st = co_await std::move(sop);
          // The handshake proved who answers; a status naming someone else
          // is a lie we do not pass on.
          if (st.id != conn->peer().to_string()) {
            throw Error(Errc::kProtocol, "its status names another peer (" + st.id + ")");
          }
          co_return st;
        },
        addr);
    inspect::NodeStatus st = co_await std::move(op);
    n.id = st.id;
    n.status = std::move(st);
  } catch (const Error& e) {
    n.problem = problem_of(e);
    if (n.problem == "wrong_peer" && !expected) n.problem = "protocol";
    n.error = e.message();
  } catch (const std::exception& e) {
    n.problem = "error";
    n.error = e.what();
  }
  co_return n;
}

namespace {

struct Target {
  std::string addr;
  std::string id;  // "" for a seed
};

// Asks every target at once; returns when all answered or at `until`.
Task<std::vector<CrawledNode>> ask_all(peers::rpc::Node& rpc, const std::vector<Target>& targets,
                                       std::chrono::milliseconds timeout,
                                       steady_clock::time_point until) {
  struct Round {
    explicit Round(const peers::rpc::Executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    std::vector<std::optional<CrawledNode>> results;
    std::size_t left = 0;
  };
  auto ex = co_await asio::this_coro::executor;
  auto round = std::make_shared<Round>(ex);
  round->results.resize(targets.size());
  round->left = targets.size();
  round->timer.expires_at(until);
  peers::rpc::Node* node = &rpc;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    Target t = targets[i];
    auto each = std::min<steady_clock::duration>(timeout, until - steady_clock::now());
    auto each_ms = std::chrono::duration_cast<std::chrono::milliseconds>(each);
    if (each_ms.count() < 1) each_ms = std::chrono::milliseconds(1);
    asio::co_spawn(
        ex,
        [round, node, t, i, each_ms]() -> Task<void> {
          auto op = ask_status(*node, t.addr, t.id, each_ms);
          round->results[i] = co_await std::move(op);
          if (--round->left == 0) round->timer.cancel();
        },
        asio::detached);
  }
  if (round->left > 0) {
    boost::system::error_code ec;
    auto wait = round->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  std::vector<CrawledNode> out;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (round->results[i]) {
      out.push_back(std::move(*round->results[i]));
    } else {
      CrawledNode n;
      n.id = targets[i].id;
      n.addr = targets[i].addr;
      n.problem = "not_visited";
      n.error = "the walk ran out of time";
      out.push_back(std::move(n));
    }
  }
  co_return out;
}

}  // namespace

Task<std::vector<CrawledNode>> crawl(peers::rpc::Node& rpc, std::vector<std::string> seeds,
                                     CrawlOptions o) {
  auto until = steady_clock::now() + o.total_timeout;
  std::map<std::string, CrawledNode> found;  // by id, or "@addr" for seeds that told none
  std::set<std::string> queued;              // ids (and seed addrs) already in a round
  // Nodes named past max_nodes: never asked, but reported as such rather
  // than dropped (their neighbours still draw them).
  std::map<std::string, std::string> skipped;  // id -> addr
  std::vector<Target> next;
  for (const auto& s : seeds) {
    if (queued.insert("@" + s).second) next.push_back({s, ""});
  }
  while (!next.empty()) {
    std::vector<Target> round;
    if (steady_clock::now() >= until) {
      for (const auto& t : next) {
        CrawledNode n;
        n.id = t.id;
        n.addr = t.addr;
        n.problem = "not_visited";
        n.error = "the walk ran out of time";
        found[t.id.empty() ? "@" + t.addr : t.id] = n;
      }
      break;
    }
    std::size_t take = std::min(next.size(), std::max<std::size_t>(1, o.parallel));
    round.assign(next.begin(), next.begin() + static_cast<std::ptrdiff_t>(take));
    next.erase(next.begin(), next.begin() + static_cast<std::ptrdiff_t>(take));
    auto op = ask_all(rpc, round, o.node_timeout, until);
    std::vector<CrawledNode> answers = co_await std::move(op);
    for (auto& n : answers) {
      if (!n.status) {
        std::string key = n.id.empty() ? "@" + n.addr : n.id;
        if (!found.count(key)) found[key] = std::move(n);
        continue;
      }
      auto learn = [&](const inspect::Neighbor& nb) {
        if (nb.id.empty() || queued.count(nb.id) || found.count(nb.id)) return;
        if (queued.size() >= o.max_nodes) {
          skipped.emplace(nb.id, nb.addr);
          return;
        }
        queued.insert(nb.id);
        next.push_back({nb.addr, nb.id});
      };
      queued.insert(n.id);
      for (const auto& s : n.status->stripes) {
        if (!s.path.empty()) learn(s.path.front());
        if (s.parent) learn(*s.parent);
        for (const auto& c : s.children) learn(c);
      }
      found[n.id] = std::move(n);
    }
  }
  for (const auto& [id, addr] : skipped) {
    if (found.count(id)) continue;
    CrawledNode n;
    n.id = id;
    n.addr = addr;
    n.problem = "not_visited";
    n.error = "the walk stops at " + std::to_string(o.max_nodes) + " nodes";
    found[id] = std::move(n);
  }
  std::vector<CrawledNode> out;
  for (auto& [key, n] : found) out.push_back(std::move(n));
  co_return out;
}

}  // namespace vt
