#include "lib/sim/network.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <deque>
#include <functional>
#include <list>
#include <optional>

#include "lib/kernel/error.h"
#include "lib/rpc/address.h"

namespace peers::sim {

namespace asio = boost::asio;
using boost::system::error_code;
using IoHandler = rpc::StreamTransport::IoHandler;
using rpc::Task;

namespace {

constexpr std::size_t kSendBuffer = 256 * 1024;
constexpr std::size_t kReceiveWindow = 4 * 1024 * 1024;
// A dial that no one answers (NAT, partition, crashed host) fails after
// this, as a SYN that is dropped would (TCP retries for much longer; the
// RPC layer's own timeouts are shorter).
constexpr auto kDialTimeout = std::chrono::seconds(5);

// TCP/IP on the wire: each packet of up to an MSS of data carries headers
// (Ethernet 14, IPv4 20, TCP 32 with timestamps: what the network lab's
// shapers count), and the receiver sends a header-only ACK for every second
// packet, on its own uplink.
constexpr std::size_t kMss = 1448;
constexpr std::size_t kHeaderBytes = 66;
// A segment with no data (a FIN alone) is still one packet.
std::size_t packets(std::size_t n) { return std::max<std::size_t>(1, (n + kMss - 1) / kMss); }
std::size_t on_wire(std::size_t n) { return n + packets(n) * kHeaderBytes; }
std::size_t ack_bytes(std::size_t n) { return (packets(n) + 1) / 2 * kHeaderBytes; }

Clock::duration transmit_time(std::size_t bytes, double bps) {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(bytes) * 8.0 / bps));
}

}  // namespace

class SimStream;

// Bytes in order: appended at the back, consumed at the front without
// moving what remains (a 256 KiB send buffer would otherwise be moved for
// every 16 KiB segment).
class ByteQueue {
 public:
  std::size_t size() const { return buf_.size() - head_; }
  bool empty() const { return size() == 0; }
  const char* data() const { return buf_.data() + head_; }
  void append(const char* p, std::size_t n) { buf_.append(p, n); }
  void consume(std::size_t n) {
    head_ += n;
    if (head_ == buf_.size()) {
      buf_.clear();
      head_ = 0;
    } else if (head_ > 64 * 1024 && head_ > buf_.size() / 2) {
      buf_.erase(0, head_);
      head_ = 0;
    }
  }
  void clear() {
    buf_.clear();
    head_ = 0;
  }

 private:
  std::string buf_;
  std::size_t head_ = 0;
};

// One direction of a stream: bytes from src's writer to dst's reader.
// The bytes are copied in once (the write) and out once (the read): one
// queue holds, in order, what is delivered and not yet read, what is in
// flight and what waits in the send buffer. A segment is a length.
struct Flow {
  Host* src = nullptr;
  Host* dst = nullptr;
  ByteQueue bytes;            // unread, then in_flight, then unsent
  std::size_t unread = 0;     // delivered, waiting for the reader
  std::size_t in_flight = 0;  // sent, not yet delivered
  std::size_t unsent = 0;     // in the send buffer
  std::uint64_t acked = 0;
  Clock::time_point last_delivery{};
  bool fin = false;          // writer closed: eof after the last byte
  bool fin_sent = false;     // the fin left with the last segment
  bool eof = false;          // reader sees eof once unread is empty
  bool broken = false;       // reset: both sides fail
  bool reader_gone = false;  // the reading side closed: arrivals are dropped
  bool on_uplink = false;
  // Pending operations.
  // (Optional, not empty handlers: any_completion_handler's move assignment
  // recurses without end in Boost 1.81, so these are emplaced and reset.)
  std::optional<IoHandler> reader;
  asio::mutable_buffer read_into;
  std::optional<IoHandler> writer;
  asio::const_buffer write_from;
};

// A stream pair: a->b and b->a, and the two endpoints.
struct Pair {
  Flow ab, ba;
  std::string a_addr, b_addr;  // host:port of each end
  // Where b sees a: a's address, or its NAT's outer address and port.
  std::string a_seen;
  bool a_open = true, b_open = true;
};

class Host {
 public:
  Host(Network& net, std::size_t index, HostSpec spec, std::string ip)
      : net(net), index(index), spec(spec), ip(std::move(ip)) {}

  Network& net;
  std::size_t index;
  HostSpec spec;
  std::string ip;
  std::string outer_ip;  // behind a NAT: the NAT's public address
  HostStats stats;
  bool crashed = false;
  int group = 0;
  std::uint16_t next_port = 40000;
  std::map<std::uint16_t, class SimListener*> listeners;
  std::vector<std::weak_ptr<Pair>> pairs;  // to break on a crash
  // Uplink: streams with something to send, served in turn.
  std::list<std::pair<std::shared_ptr<Pair>, Flow*>> waiting;
  bool sending = false;
  // The uplink is busy until then: with the segment it sends, and with the
  // ACKs the host sends for what it receives, which queue behind it.
  Clock::time_point up_free{};
  Clock::time_point down_free{};
  // CPU: busy until cpu_free; arrivals wait for it in order.
  Clock::time_point cpu_free{};
  std::deque<std::function<void()>> cpu_waiting;
  bool cpu_wake_armed = false;

  std::uint16_t free_port() {
    while (listeners.count(next_port)) ++next_port;
    return next_port++;
  }
  void want_send(const std::shared_ptr<Pair>& p, Flow* f);
  void kick();
  // Runs fn now when the CPU is free and nothing waits for it, else after
  // what waits.
  template <typename Fn>
  void when_cpu_free(Fn&& fn) {
    if (cpu_waiting.empty() && cpu_free <= net.vt().now()) {
      fn();
      return;
    }
    cpu_waiting.emplace_back(std::forward<Fn>(fn));
    arm_cpu_wake();
  }

 private:
  void arm_cpu_wake();
};

namespace {

// One thread runs the simulation, so a handler invoked from the executor's
// queue never races its strand. (Not asio::append: with an
// any_completion_handler it recurses without end in Boost 1.81.)
// Moves the handler out and leaves none.
IoHandler take(std::optional<IoHandler>& h) {
  IoHandler out(std::move(*h));
  h.reset();
  return out;
}

void complete_io(asio::any_io_executor ex, IoHandler h, error_code ec, std::size_t n) {
  asio::post(ex, [h = std::move(h), ec, n]() mutable { std::move(h)(ec, n); });
}

bool can_send(const Flow& f) {
  if (f.broken || f.reader_gone) return false;
  if (f.unsent == 0) return f.fin && !f.fin_sent;
  return f.in_flight + f.unread < kReceiveWindow;
}

// Gives a pending reader what has arrived.
void serve_reader(Network& net, Flow& f) {
  if (!f.reader) return;
  if (f.broken) {
    complete_io(net.executor(), take(f.reader), asio::error::connection_reset, 0);
    return;
  }
  if (f.unread > 0) {
    std::size_t n = std::min(f.unread, f.read_into.size());
    std::memcpy(f.read_into.data(), f.bytes.data(), n);
    f.bytes.consume(n);
    f.unread -= n;
    complete_io(net.executor(), take(f.reader), {}, n);
    return;
  }
  if (f.eof) {
    complete_io(net.executor(), take(f.reader), asio::error::eof, 0);
  }
}

std::size_t take_write(Flow& f, asio::const_buffer b) {
  std::size_t room = kSendBuffer - std::min(kSendBuffer, f.unsent);
  std::size_t n = std::min(room, b.size());
  f.bytes.append(static_cast<const char*>(b.data()), n);
  f.unsent += n;
  if (n > 0) f.src->net.charge_cpu(*f.src, f.src->net.seal_cost(n));
  return n;
}

// A parked async write, when there is room again.
void serve_writer(Network& net, const std::shared_ptr<Pair>& p, Flow& f) {
  if (!f.writer) return;
  if (f.broken) {
    complete_io(net.executor(), take(f.writer), asio::error::connection_reset, 0);
    return;
  }
  std::size_t n = take_write(f, f.write_from);
  if (n == 0) return;
  complete_io(net.executor(), take(f.writer), {}, n);
  f.src->want_send(p, &f);
}

}  // namespace

void Host::want_send(const std::shared_ptr<Pair>& p, Flow* f) {
  if (f->on_uplink || !can_send(*f)) return;
  f->on_uplink = true;
  waiting.emplace_back(p, f);
  kick();
}

void Host::kick() {
  if (sending || crashed) return;
  while (!waiting.empty()) {
    std::shared_ptr<Pair> pair = std::move(waiting.front().first);
    Flow* f = waiting.front().second;
    waiting.pop_front();
    f->on_uplink = false;
    if (!can_send(*f)) continue;  // window full or broken: the reader's read re-queues it
    std::size_t n = std::min(net.segment_bytes(), f->unsent);
    f->unsent -= n;
    bool fin = f->fin && f->unsent == 0;
    if (fin) f->fin_sent = true;
    f->in_flight += n;
    std::size_t wire = on_wire(n);
    stats.bytes_up += wire;
    sending = true;
    // The bytes leave once the CPU has done what was charged before (the
    // work that made them, such as checking a chunk before forwarding it)
    // and the uplink has sent the ACKs queued before them.
    auto done = std::max({net.vt().now(), cpu_free, up_free}) + transmit_time(wire, spec.up_bps);
    up_free = done;
    // Room in the send buffer: a parked writer goes on.
    serve_writer(net, pair, *f);
    net.vt().call_at(done, [this, pair, f, n, fin] {
      sending = false;
      Host* dst = f->dst;
      auto arrive = net.vt().now() + net.one_way(*this, *dst);
      if (net.lose_segment()) {
        arrive +=
            std::max<Clock::duration>(std::chrono::milliseconds(200), 4 * net.one_way(*this, *dst));
      }
      auto start = std::max(arrive, dst->down_free);
      auto delivered = start + transmit_time(on_wire(n), dst->spec.down_bps);
      dst->down_free = delivered;
      delivered = std::max(delivered, f->last_delivery);
      f->last_delivery = delivered;
      net.vt().call_at(delivered, [this, pair, f, fin, n] {
        f->dst->when_cpu_free([this, pair, f, fin, n] {
          f->in_flight -= n;
          if (f->broken) return;
          Host& rx = *f->dst;
          rx.stats.bytes_up += ack_bytes(n);
          rx.up_free =
              std::max(net.vt().now(), rx.up_free) + transmit_time(ack_bytes(n), rx.spec.up_bps);
          if (f->reader_gone) {
            f->bytes.consume(n);  // nothing is unread: these are at the front
          } else {
            f->unread += n;
            f->dst->stats.bytes_down += n;
            net.charge_cpu(*f->dst, net.open_cost(n));
          }
          if (fin) f->eof = true;
          serve_reader(net, *f);
          // The sender hears of it a one-way delay later.
          net.vt().call_at(net.vt().now() + net.one_way(*f->dst, *this), [this, pair, f, n] {
            f->acked += n;
            want_send(pair, f);
          });
        });
      });
      if (can_send(*f)) want_send(pair, f);
      kick();
    });
    return;
  }
}

void Host::arm_cpu_wake() {
  if (cpu_wake_armed) return;
  cpu_wake_armed = true;
  net.vt().call_at(cpu_free, [this] {
    cpu_wake_armed = false;
    while (!cpu_waiting.empty() && cpu_free <= net.vt().now()) {
      auto fn = std::move(cpu_waiting.front());
      cpu_waiting.pop_front();
      fn();
    }
    if (!cpu_waiting.empty()) arm_cpu_wake();
  });
}

// One end of a stream pair.
class SimStream : public rpc::StreamTransport {
 public:
  SimStream(Network& net, std::shared_ptr<Pair> p, bool a) : net_(net), p_(std::move(p)), a_(a) {}
  ~SimStream() override { close(false); }

  std::string local_address() const override { return a_ ? p_->a_addr : p_->b_addr; }
  std::string remote_address() const override { return a_ ? p_->b_addr : p_->a_seen; }

  void async_read_some(asio::mutable_buffer b, IoHandler h) override {
    Flow& f = in();
    if (!open()) {
      complete_io(net_.executor(), std::move(h), asio::error::operation_aborted, 0);
      return;
    }
    f.reader.emplace(std::move(h));
    f.read_into = b;
    std::size_t before = f.unread;
    serve_reader(net_, f);
    // Reading opened the window: the sender may go on.
    if (f.unread < before) f.src->want_send(p_, &f);
  }
  void async_write_some(asio::const_buffer b, IoHandler h) override {
    Flow& f = out();
    if (!open() || f.broken) {
      complete_io(net_.executor(), std::move(h),
                  open() ? asio::error::connection_reset : asio::error::operation_aborted, 0);
      return;
    }
    f.writer.emplace(std::move(h));
    f.write_from = b;
    serve_writer(net_, p_, f);
  }
  std::size_t write_some(asio::const_buffer b, error_code& ec) override {
    Flow& f = out();
    ec = {};
    if (!open() || f.broken) {
      ec = open() ? asio::error::connection_reset : asio::error::bad_descriptor;
      return 0;
    }
    std::size_t n = take_write(f, b);
    if (n == 0) {
      ec = asio::error::would_block;
      return 0;
    }
    f.src->want_send(p_, &f);
    return n;
  }
  rpc::TcpPath path() const override {
    const Flow& f = const_cast<SimStream*>(this)->out();
    rpc::TcpPath t;
    t.ok = open();
    t.bytes_acked = f.acked;
    t.notsent_bytes = static_cast<std::uint32_t>(f.unsent);
    auto rtt = 2 * net_.one_way(*f.src, *f.dst);
    t.min_rtt_ms = std::chrono::duration<double, std::milli>(rtt).count();
    // In flight beyond one bandwidth-delay product waited in a queue.
    double queued_ms = static_cast<double>(f.in_flight) * 8.0 / f.src->spec.up_bps * 1e3;
    t.srtt_ms = t.min_rtt_ms + queued_ms;
    return t;
  }
  bool is_open() const override { return open(); }
  void close(bool abort) override {
    if (!open()) return;
    (a_ ? p_->a_open : p_->b_open) = false;
    Flow& o = out();
    Flow& i = in();
    i.reader_gone = true;
    i.bytes.consume(i.unread);
    i.unread = 0;
    if (i.reader) {
      complete_io(net_.executor(), take(i.reader), asio::error::operation_aborted, 0);
    }
    if (o.writer) {
      complete_io(net_.executor(), take(o.writer), asio::error::operation_aborted, 0);
    }
    if (abort) {
      break_pair(net_, p_);
      return;
    }
    o.fin = true;
    o.src->want_send(p_, &o);
  }

  // A reset: both readers and writers fail, a one-way delay later at the far end.
  static void break_pair(Network& net, const std::shared_ptr<Pair>& p) {
    for (Flow* f : {&p->ab, &p->ba}) {
      f->broken = true;
      // Nothing is sent, delivered or read any more.
      f->bytes.clear();
      f->unsent = 0;
      f->unread = 0;
      serve_reader(net, *f);
      serve_writer(net, p, *f);
    }
  }

 private:
  bool open() const { return a_ ? p_->a_open : p_->b_open; }
  Flow& out() { return a_ ? p_->ab : p_->ba; }
  Flow& in() { return a_ ? p_->ba : p_->ab; }

  Network& net_;
  std::shared_ptr<Pair> p_;
  bool a_;
};

// Waits until woken: a Timer that never expires, cancelled to wake.
Task<void> wait_wake(Timer& wake) {
  error_code ec;
  auto wait = wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(wait);
}

class SimListener : public rpc::ListenTransport {
 public:
  SimListener(Host& host, std::uint16_t port)
      : host_(&host), port_(port), wake_(host.net.executor(), Clock::time_point::max()) {
    host.listeners[port] = this;
  }
  ~SimListener() override { close(); }
  std::string host() const override { return host_->ip; }
  std::uint16_t port() const override { return port_; }
  rpc::Task<std::unique_ptr<rpc::StreamTransport>> accept() override {
    while (backlog_.empty()) {
      if (closed_) throw Error(Errc::kCancelled, "listener closed");
      auto wait = wait_wake(wake_);
      co_await std::move(wait);
    }
    auto s = std::move(backlog_.front());
    backlog_.pop_front();
    co_return s;
  }
  void close() override {
    if (closed_) return;
    closed_ = true;
    host_->listeners.erase(port_);
    backlog_.clear();
    wake_.cancel();
  }
  void arrived(std::unique_ptr<rpc::StreamTransport> s) {
    backlog_.push_back(std::move(s));
    wake_.cancel();
  }

 private:
  Host* host_;
  std::uint16_t port_;
  bool closed_ = false;
  Timer wake_;
  std::deque<std::unique_ptr<rpc::StreamTransport>> backlog_;
};

// A dial under way.
struct Dial {
  explicit Dial(asio::any_io_executor ex) : wake(ex, Clock::time_point::max()) {}
  Timer wake;
  bool done = false;
  std::unique_ptr<rpc::StreamTransport> stream;
  std::optional<Error> error;
};

// What one node sees: dial from and listen on its host.
class HostTransport : public rpc::Network {
 public:
  HostTransport(sim::Network& net, Host& host) : net_(net), host_(host) {}

  rpc::Task<std::unique_ptr<rpc::StreamTransport>> connect(std::string host_port) override {
    auto hp = rpc::parse_host_port(host_port);
    if (!hp) throw hp.error();
    auto d = std::make_shared<Dial>(net_.executor());
    dial(*hp, host_port, d);
    while (!d->done) {
      auto wait = wait_wake(d->wake);
      co_await std::move(wait);
    }
    if (!d->stream) throw *d->error;
    co_return std::move(d->stream);
  }

  Result<std::unique_ptr<rpc::ListenTransport>> listen(const std::string& host_port) override {
    auto hp = rpc::parse_host_port(host_port);
    if (!hp) return hp.error();
    if (hp->host != host_.ip && hp->host != "0.0.0.0" && hp->host != "::") {
      return Error(Errc::kUnavailable, "cannot listen on " + host_port + ": not this host");
    }
    std::uint16_t port = hp->port != 0 ? hp->port : host_.free_port();
    if (host_.listeners.count(port)) {
      return Error(Errc::kUnavailable, "cannot listen on " + host_port + ": address in use");
    }
    return std::unique_ptr<rpc::ListenTransport>(new SimListener(host_, port));
  }

 private:
  void finish(const std::shared_ptr<Dial>& d, Clock::duration after, Error e,
              std::shared_ptr<Pair> pair = nullptr) {
    net_.vt().call_at(net_.vt().now() + after, [this, d, e, pair] {
      if (pair && !pair->ab.broken) {
        d->stream = std::make_unique<SimStream>(net_, pair, true);
      } else {
        d->error = e;
      }
      d->done = true;
      d->wake.cancel();
    });
  }

  void dial(const rpc::HostPort& hp, const std::string& host_port, std::shared_ptr<Dial> d) {
    Host* to = net_.find(hp.host);
    if (host_.crashed) {
      finish(d, Clock::duration(0), Error(Errc::kUnavailable, "host is down"));
      return;
    }
    if (!to || !net_.reachable(host_, *to, true)) {
      finish(d, kDialTimeout,
             Error(Errc::kTimeout, "cannot connect to " + host_port + ": connection timed out"));
      return;
    }
    auto rtt = 2 * net_.one_way(host_, *to);
    Error refused(Errc::kUnavailable, "cannot connect to " + host_port + ": connection refused");
    if (!to->listeners.count(hp.port)) {
      finish(d, rtt, refused);
      return;
    }
    auto pair = std::make_shared<Pair>();
    pair->ab.src = &host_;
    pair->ab.dst = to;
    pair->ba.src = to;
    pair->ba.dst = &host_;
    std::uint16_t local_port = host_.free_port();
    pair->a_addr = rpc::join_host_port(host_.ip, local_port);
    // A NAT maps the connection to its outer address and a port of its own.
    pair->a_seen =
        host_.spec.nat ? rpc::join_host_port(host_.outer_ip, host_.free_port()) : pair->a_addr;
    pair->b_addr = rpc::join_host_port(to->ip, hp.port);
    host_.pairs.push_back(pair);
    to->pairs.push_back(pair);
    ++host_.stats.streams;
    ++to->stats.streams;
    std::uint16_t port = hp.port;
    // The SYN arrives a one-way delay later; the dialer learns a round trip later.
    net_.vt().call_at(net_.vt().now() + rtt / 2, [this, to, port, pair] {
      auto it = to->listeners.find(port);
      if (it == to->listeners.end() || to->crashed) {
        SimStream::break_pair(net_, pair);
        return;
      }
      it->second->arrived(std::make_unique<SimStream>(net_, pair, false));
    });
    finish(d, rtt, refused, pair);
  }

  sim::Network& net_;
  Host& host_;
};

Network::Network(asio::any_io_executor ex, VirtualTime& vt, std::uint64_t seed)
    : ex_(std::move(ex)), vt_(vt), rng_(seed) {}

Network::~Network() = default;

std::size_t Network::add_host(const HostSpec& spec) {
  std::size_t i = hosts_.size();
  std::size_t n = i + 1;
  std::string ip = "10." + std::to_string((n >> 16) & 0xff) + "." +
                   std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
  hosts_.push_back(std::make_unique<Host>(*this, i, spec, ip));
  // Each NATed host has a NAT of its own, in 100.64.0.0/10 (carrier-grade
  // NAT space), so peers see it at another address than its own.
  hosts_.back()->outer_ip = "100." + std::to_string(64 + ((n >> 16) & 0x3f)) + "." +
                            std::to_string((n >> 8) & 0xff) + "." + std::to_string(n & 0xff);
  by_ip_[ip] = hosts_.back().get();
  return i;
}

std::string Network::ip(std::size_t host) const { return hosts_.at(host)->ip; }
const HostStats& Network::stats(std::size_t host) const { return hosts_.at(host)->stats; }
std::size_t Network::hosts() const { return hosts_.size(); }

std::shared_ptr<rpc::Network> Network::transport(std::size_t host) {
  return std::make_shared<HostTransport>(*this, *hosts_.at(host));
}

Host* Network::find(const std::string& ip) {
  auto it = by_ip_.find(ip);
  return it == by_ip_.end() ? nullptr : it->second;
}

void Network::set_group(std::size_t host, int group) { hosts_.at(host)->group = group; }

void Network::crash(std::size_t host) {
  Host& h = *hosts_.at(host);
  h.crashed = true;
  for (auto& w : h.pairs) {
    if (auto p = w.lock()) SimStream::break_pair(*this, p);
  }
  h.pairs.clear();
  h.waiting.clear();
}

void Network::restore(std::size_t host) { hosts_.at(host)->crashed = false; }

void Network::charge_cpu(std::size_t host, Clock::duration cost) {
  charge_cpu(*hosts_.at(host), cost);
}

void Network::charge_cpu(Host& host, Clock::duration cost) {
  if (cost <= Clock::duration::zero()) return;
  host.cpu_free = std::max(host.cpu_free, vt_.now()) + cost;
  host.stats.cpu += cost;
}

Clock::duration Network::seal_cost(std::size_t bytes) const {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::nano>(seal_ns_per_byte_ * static_cast<double>(bytes)));
}

Clock::duration Network::open_cost(std::size_t bytes) const {
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::nano>(open_ns_per_byte_ * static_cast<double>(bytes)));
}

Clock::duration Network::one_way(const Host& a, const Host& b) const {
  double ms = std::hypot(a.spec.x_ms - b.spec.x_ms, a.spec.y_ms - b.spec.y_ms) + 1.0 +
              a.spec.access_ms + b.spec.access_ms;
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(ms));
}

bool Network::reachable(const Host& from, const Host& to, bool dialing) const {
  if (from.crashed || to.crashed) return false;
  if (from.group != 0 && to.group != 0 && from.group != to.group) return false;
  if (dialing && to.spec.nat && &from != &to) return false;
  return true;
}

bool Network::lose_segment() {
  if (loss_ <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < loss_;
}

}  // namespace peers::sim
