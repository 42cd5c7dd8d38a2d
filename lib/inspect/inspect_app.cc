#include "lib/inspect/inspect_app.h"

#include <poll.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <ctime>
#include <optional>

#include "lib/crypto/key_file.h"
#include "lib/inspect/catalog.h"
#include "lib/inspect/crawl.h"
#include "lib/inspect/format.h"
#include "lib/inspect/topology.h"
#include "lib/inspect/within.h"
#include "lib/kernel/cli.h"
#include "lib/kernel/hex.h"
#include "lib/kernel/log.h"
#include "lib/kernel/signals.h"
#include "lib/kernel/units.h"
#include "lib/overlay/peer_config.h"
#include "lib/rpc/node.h"
#include "proto/inspect.pidl.rpc.h"

namespace vt {

namespace asio = boost::asio;
using peers::Errc;
using peers::Error;
using peers::rpc::Task;
using std::chrono::milliseconds;

void add_inspect_commands(CLI::App& app, InspectAppOptions& o) {
  app.require_subcommand(1);
  auto node_address = CLI::Validator(
      [](std::string& text) { return address_problem(text, /*dialing=*/true); }, "", "address");
  // --key and --timeout may come after the subcommand too.
  app.fallthrough();
  app.add_option("--key", o.key,
                 "Identity key file (default: a fresh identity); nodes started "
                 "with --inspect-allow answer only the peer ids they name")
      ->option_text("FILE")
      ->check(CLI::ExistingFile);
  app.add_option("--timeout", o.timeout,
                 "How long one node may take to connect and answer (2s, 500ms)")
      ->option_text("DURATION")
      ->capture_default_str();

  auto* status = app.add_subcommand("status",
                                    "Show one node's state: role, stream, rates, "
                                    "parent and children in every stripe");
  status->add_option("addr", o.addr, "HOST:PORT of the node")
      ->option_text("HOST:PORT")
      ->check(node_address)
      ->required();
  status->add_flag("--json", o.json, "Print the status as JSON (IDL field names, docs/inspect.md)");
  status->footer(
      "Example:\n  vt-inspect status host:7000\n"
      "  vt-inspect status host:7000 --json | jq '.stripes[].parent.id'");

  auto* tree = app.add_subcommand(
      "tree",
      "Walk the overlay from any node and draw every stripe's tree: short id, address, "
      "rate, RTT to the parent and gaps of each node; unreachable, denied and looping "
      "nodes are marked");
  // tree and nodes walk the same way.
  auto add_walk_options = [&](CLI::App* walk) {
    walk->add_option("addr", o.addrs, "HOST:PORT of any node (more: also walk from these)")
        ->option_text("HOST:PORT")
        ->check(node_address)
        ->required();
    walk->add_option("--watch", o.watch, "Redraw every DURATION (1s) until Ctrl-C")
        ->option_text("DURATION");
    walk->add_option("--deadline", o.deadline,
                     "Stop walking after this long; nodes not asked by "
                     "then are shown as not visited")
        ->option_text("DURATION")
        ->capture_default_str();
  };
  add_walk_options(tree);
  tree->add_flag("--json", o.json, "Print one JSON document (docs/inspect.md)");
  tree->add_flag("--dot", o.dot, "Print Graphviz: one cluster per stripe");
  tree->add_flag("--ascii", o.ascii, "Draw with ASCII instead of box-drawing characters");
  tree->footer(
      "Example:\n  vt-inspect tree host:7000\n"
      "  vt-inspect tree host:7000 --dot | dot -Tpng > tree.png\n"
      "  watch -d vt-inspect tree host:7000");

  auto* nodes = app.add_subcommand(
      "nodes",
      "Walk the overlay from any node and list every node on one line: id, role, address, "
      "depth in each stripe, rates in and out, children, delay behind live, gaps");
  add_walk_options(nodes);
  nodes->callback([&o] { o.nodes = true; });
  nodes->footer(
      "Example:\n  vt-inspect nodes host:7000\n"
      "  vt-inspect nodes host:7000 --watch 1s");

  auto* events = app.add_subcommand(
      "events",
      "Follow a node's events as JSON lines: joined, adopted, child_dropped, "
      "parent_lost, reattached, chunk_rejected, peer_banned, moved_up, redirected");
  events->add_option("addr", o.addr, "HOST:PORT of the node")
      ->option_text("HOST:PORT")
      ->check(node_address)
      ->required();
  events
      ->add_option("--since", o.since,
                   "Start after this event seq (0: every event the node still holds)")
      ->option_text("SEQ")
      ->capture_default_str();
  events->add_flag("--no-follow", o.no_follow, "Print the events held now and exit");
  events->footer(
      "Example:\n  vt-inspect events host:7000 | jq -c 'select(.event == "
      "\"parent_lost\")'");

  auto* call = app.add_subcommand(
      "call", "Call any method the node serves with JSON arguments; print the JSON result");
  call->add_option("addr", o.addr, "HOST:PORT of the node")
      ->option_text("HOST:PORT")
      ->check(node_address)
      ->required();
  call->add_option("method", o.method,
                   "Interface.method, e.g. Inspect.status or "
                   "vt.overlay.Overlay.stream")
      ->option_text("METHOD");
  call->add_option("args", o.args, "The request as JSON")
      ->option_text("JSON")
      ->capture_default_str();
  call->add_flag("--list", o.list, "List the methods the node serves instead");
  call->add_flag("--write", o.write,
                 "Also call methods that change the node's state (Overlay.join, feed, "
                 "heartbeat, redirect); without it call only reads");
  call->footer(
      "Example:\n  vt-inspect call host:7000 Overlay.stream\n"
      "  vt-inspect call host:7000 Inspect.events '{\"since\": 10}'\n"
      "  vt-inspect call --list host:7000");
}

namespace {

// Timeouts and intervals: whole milliseconds, at least one.
milliseconds ms_flag(std::string_view flag, const std::string& text) {
  return std::chrono::duration_cast<milliseconds>(
      peers::duration_flag(flag, text, milliseconds(1)));
}

// What every subcommand needs.
struct Session {
  peers::rpc::Node& rpc;
  const InspectAppOptions& o;
  milliseconds timeout;
  bool stdout_broken = false;

  // Writes and flushes; a reader that went away (EPIPE) ends the command.
  bool out(const std::string& text) {
    if (stdout_broken) return false;
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout)) {
      stdout_broken = true;
    }
    return !stdout_broken;
  }

  Task<std::shared_ptr<peers::rpc::Connection>> connect(const std::string& addr) {
    peers::rpc::Node* node = &rpc;
    auto op = within<std::shared_ptr<peers::rpc::Connection>>(
        timeout,
        [node, addr]() -> Task<std::shared_ptr<peers::rpc::Connection>> {
          auto c = node->connect(addr);
          co_return co_await std::move(c);
        },
        "connecting to " + addr);
    co_return co_await std::move(op);
  }
};

Error with_context(const Error& e, const std::string& what) {
  std::string type = e.type_name().rfind("peers.", 0) == 0 ? "" : e.type_name() + ": ";
  // The node's failure, not the user's: never the usage exit code.
  bool usage = e.code() == Errc::kInvalidArgument || e.code() == Errc::kNotFound ||
               e.code() == Errc::kPermissionDenied;
  return Error(usage ? Errc::kInternal : e.code(), what + ": " + type + e.what());
}

Task<int> run_status(Session& s) {
  const std::string& addr = s.o.addr;
  auto op = ask_status(s.rpc, addr, "", s.timeout);
  CrawledNode n = co_await std::move(op);
  if (!n.status) throw Error(Errc::kUnavailable, addr + ": " + n.problem + ": " + n.error);
  s.out(s.o.json ? status_json(*n.status).dump(2) + "\n" : status_text(*n.status));
  co_return 0;
}

// "every 1s, 19:20:05 UTC": when a --watch view was taken (wall clock).
std::string watch_header(milliseconds every) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char clock[32];
  std::strftime(clock, sizeof clock, "%H:%M:%S UTC", &utc);
  return "every " + peers::format_duration(every) + ", " + clock + "\n";
}

Task<int> run_tree(Session& s, std::optional<milliseconds> watch) {
  CrawlOptions copts;
  copts.node_timeout = s.timeout;
  copts.total_timeout = ms_flag("--deadline", s.o.deadline);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  std::string last_view;  // --watch: the previous text, to mark changes
  for (;;) {
    auto started = std::chrono::steady_clock::now();
    auto op = crawl(s.rpc, s.o.addrs, copts);
    std::vector<CrawledNode> nodes = co_await std::move(op);
    bool any = false;
    for (const auto& n : nodes) any |= n.status.has_value();
    Topology topo(std::move(nodes));
    std::string text;
    if (s.o.json) {
      text = (watch ? topo.json().dump() : topo.json().dump(2)) + "\n";
    } else if (s.o.dot) {
      text = topo.dot();
    } else {
      text = s.o.nodes ? topo.nodes_text() : topo.text({.ascii = s.o.ascii});
      // Home, clear: redraw in place, under the time of this view, with
      // what changed since the last one marked.
      if (watch) {
        std::string view = text;
        text = "\x1b[H\x1b[2J" + watch_header(*watch) + mark_changes(last_view, view);
        last_view = std::move(view);
      }
    }
    if (!s.out(text)) co_return 0;
    if (!watch) {
      if (!any) throw Error(Errc::kUnavailable, "no node answered");
      co_return 0;
    }
    pause.expires_at(started + *watch);
    auto w = pause.async_wait(asio::use_awaitable);
    co_await std::move(w);
  }
}

Task<int> run_events(Session& s) {
  const std::string& addr = s.o.addr;
  auto cop = s.connect(addr);
  auto conn = co_await std::move(cop);
  std::string node_id = conn->peer().to_string();
  inspect::InspectClient client(conn);
  inspect::EventsRequest req;
  req.since = s.o.since;
  auto print = [&](const inspect::Event& e) { return s.out(event_json(node_id, e).dump() + "\n"); };
  try {
    if (s.o.no_follow) {
      auto op = client.events(req, peers::rpc::CallOptions{s.timeout});
      inspect::EventList list = co_await std::move(op);
      for (const auto& e : list.events) print(e);
      co_return 0;
    }
    auto op = client.follow(req, peers::rpc::CallOptions{s.timeout});
    auto [list, channel] = co_await std::move(op);
    if (list.missed > 0) {
      peers::log_warn("the node no longer holds some events",
                      {{"missed", std::to_string(list.missed)}});
    }
    for (const auto& e : list.events) {
      if (!print(e)) co_return 0;
    }
    for (;;) {
      auto rop = channel->read();
      std::optional<std::string> data = co_await std::move(rop);
      if (!data) break;
      auto e = inspect::Event::decode(*data);
      if (!e) throw Error(Errc::kProtocol, "bad event: " + e.error().message());
      if (!print(*e)) co_return 0;
    }
  } catch (const Error& e) {
    // A node that stops cleanly says GOAWAY first: its events simply end.
    if (e.message() == "peer left") {
      peers::log_info("the node stopped; no more events", {{"node", addr}});
      co_return 0;
    }
    throw with_context(e, addr);
  }
  peers::log_info("the node ended its event stream", {{"node", addr}});
  co_return 0;
}

Task<int> run_list(Session& s) {
  const std::string& addr = s.o.addr;
  auto cop = s.connect(addr);
  auto conn = co_await std::move(cop);
  inspect::InspectClient client(conn);
  inspect::ServiceList served;
  try {
    auto op = client.services(peers::rpc::CallOptions{s.timeout});
    served = co_await std::move(op);
  } catch (const Error& e) {
    throw with_context(e, addr);
  }
  const Catalog& cat = Catalog::builtin();
  std::string text;
  for (const auto& name : served.interfaces) {
    text += name + "\n";
    const auto* iface = cat.find_interface(name);
    if (!iface) {
      text += "  (vt-inspect has no descriptor for it)\n";
      continue;
    }
    for (const auto* m : iface->methods) {
      text += "  " + Catalog::signature(*m) + "\n";
      if (!m->doc.empty()) {
        std::string doc = m->doc;
        for (std::size_t at = 0; (at = doc.find('\n', at)) != std::string::npos; at += 7) {
          doc.replace(at, 1, "\n      ");
        }
        text += "      " + doc + "\n";
      }
    }
  }
  s.out(text);
  co_return 0;
}

// Methods that only read: the Inspect service's, and the stream's description
// and a parent's account of a child from Overlay.
bool reads_only(const std::string& full_name) {
  return full_name.rfind("vt.inspect.", 0) == 0 || full_name == "vt.overlay.Overlay.stream" ||
         full_name == "vt.overlay.Overlay.vouch";
}

Task<int> run_call(Session& s) {
  if (s.o.list) {
    auto op = run_list(s);
    co_return co_await std::move(op);
  }
  if (s.o.method.empty()) throw peers::usage_error("call: which method? (or --list)");
  const Catalog& cat = Catalog::builtin();
  auto resolved = cat.resolve(s.o.method);
  if (!resolved) throw peers::usage_error(resolved.error().message());
  const auto& m = *resolved->method;
  // Reading is the default: a method that changes the node's state (joins
  // the caller, opens a feed, claims a heartbeat, redirects) is a user's
  // deliberate act. The node checks every such call on its side anyway
  // (docs/security.md); this keeps a typo from doing it.
  if (!s.o.write && !reads_only(resolved->full_name)) {
    throw peers::usage_error("call: " + resolved->full_name +
                             " changes the node's state; add --write to call it");
  }
  auto args = nlohmann::json::parse(s.o.args, nullptr, false);
  if (args.is_discarded())
    throw peers::usage_error("call: the arguments are not JSON: " + s.o.args);
  auto request = cat.descriptors().json_to_wire(m.request, args);
  if (!request) {
    throw peers::usage_error("call: bad arguments for " + resolved->full_name + " (" + m.request +
                             "): " + request.error().message());
  }
  const std::string& addr = s.o.addr;
  auto cop = s.connect(addr);
  auto conn = co_await std::move(cop);
  auto decode = [&](const std::string& bytes) {
    auto j = cat.descriptors().wire_to_json(m.response.value_or("void"), bytes);
    if (!j) throw Error(Errc::kProtocol, "bad reply: " + j.error().message());
    return *j;
  };
  try {
    if (m.oneway) {
      conn->send_event(m.id, *request);
      // GOAWAY after the event: it leaves once what is queued was sent.
      auto gop = conn->goaway("done", s.timeout);
      co_await std::move(gop);
      co_return 0;
    }
    if (m.data) {
      auto op = conn->call_with_channel(m.id, *request, peers::rpc::CallOptions{s.timeout});
      auto [reply, channel] = co_await std::move(op);
      if (!s.out(decode(reply).dump() + "\n")) co_return 0;
      for (;;) {
        auto rop = channel->read();
        std::optional<std::string> data = co_await std::move(rop);
        if (!data) co_return 0;
        nlohmann::json line = {{"data", peers::to_hex(*data)}};
        if (!s.out(line.dump() + "\n")) co_return 0;
      }
    }
    auto op = conn->call(m.id, *request, peers::rpc::CallOptions{s.timeout});
    std::string reply = co_await std::move(op);
    s.out(decode(reply).dump(2) + "\n");
  } catch (const Error& e) {
    throw with_context(e, resolved->full_name);
  }
  co_return 0;
}

}  // namespace

int run_inspect_app(const CLI::App& app, const InspectAppOptions& o) {
  auto timeout = ms_flag("--timeout", o.timeout);
  std::optional<milliseconds> watch;
  if (!o.watch.empty()) watch = ms_flag("--watch", o.watch);
  if (o.json && o.dot) throw peers::usage_error("--json and --dot exclude each other");

  std::optional<peers::Identity> identity(peers::load_identity_or_fresh(o.key));

  asio::io_context io(1);
  peers::rpc::NodeOptions nopts;
  nopts.handshake_timeout = timeout;
  nopts.default_call_timeout = timeout;
  nopts.keepalive_interval = std::chrono::seconds(1);
  nopts.idle_timeout = std::max<peers::rpc::Duration>(std::chrono::seconds(10), timeout * 3);
  peers::rpc::Node rpc(io.get_executor(), std::move(*identity), nopts);
  // An inspector joins no tree and expects no hole punch: a node it asks
  // must not make it dial an address of the node's choosing.
  rpc.on_punch_request([](const peers::PeerId&, const peers::PeerId&) { return false; });
  Session session{rpc, o, timeout};

  int exit_code = 0;
  std::optional<Error> failure;
  bool finished = false;
  auto finish = [&](int code) {
    if (finished) return;
    finished = true;
    exit_code = code;
    // The loop stops once the connections have closed (see Shutdown::stop
    // in peer_app.cc).
    asio::co_spawn(
        io,
        [&]() -> peers::rpc::Task<void> {
          auto op = rpc.close_and_wait();
          co_await std::move(op);
          io.stop();
        },
        asio::detached);
  };

  // Ctrl-C ends --watch and events: that is how they are meant to stop.
  asio::posix::stream_descriptor stop_pipe(io, ::dup(peers::stop_fd()));
  stop_pipe.async_wait(asio::posix::stream_descriptor::wait_read,
                       [&](boost::system::error_code ec) {
                         if (!ec) finish(0);
                       });

  // A reader that goes away (`vt-inspect events ... | head -1`) ends a
  // command that may wait long for its next line.
  asio::steady_timer stdout_check(io);
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        for (;;) {
          stdout_check.expires_after(std::chrono::milliseconds(250));
          boost::system::error_code ec;
          auto w = stdout_check.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(w);
          if (ec) co_return;
          pollfd p{STDOUT_FILENO, 0, 0};
          if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP))) {
            finish(0);
            co_return;
          }
        }
      },
      asio::detached);

  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        try {
          int code = 0;
          if (app.got_subcommand("status")) {
            auto op = run_status(session);
            code = co_await std::move(op);
          } else if (app.got_subcommand("tree") || app.got_subcommand("nodes")) {
            auto op = run_tree(session, watch);
            code = co_await std::move(op);
          } else if (app.got_subcommand("events")) {
            auto op = run_events(session);
            code = co_await std::move(op);
          } else if (app.got_subcommand("call")) {
            auto op = run_call(session);
            code = co_await std::move(op);
          }
          finish(code);
        } catch (const Error& e) {
          // After finish() (Ctrl-C, or the reader left) the connections
          // close under the command: what it then throws is that, not a
          // failure.
          if (!finished) failure = e;
          finish(1);
        } catch (const std::exception& e) {
          if (!finished) failure = Error(Errc::kInternal, e.what());
          finish(1);
        }
      },
      asio::detached);
  io.run();
  if (failure) throw *failure;
  return exit_code;
}

}  // namespace vt
