#include "lib/rpc/internal/punch.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "lib/kernel/error.h"

namespace peers::rpc::internal {

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

// Both sockets of a punch hold one port: the listener and the dialer.
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
constexpr Duration kRetryAfter = std::chrono::milliseconds(200);

}  // namespace

Punch::Punch(const Executor& exec)
    : exec_(exec),
      strand_(asio::make_strand(exec)),
      acceptor_(strand_),
      deadline_(strand_),
      retry_(strand_),
      signal_(strand_) {}

Punch::~Punch() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  if (connector_) connector_->close(ignored);
}

std::shared_ptr<Punch> Punch::open(const Executor& exec, const std::string& local_ip) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(local_ip, ec);
  if (ec) throw Error(Errc::kInvalidArgument, "hole punch: not an IP address: " + local_ip);
  std::shared_ptr<Punch> p(new Punch(exec));
  tcp::endpoint ep(ip, 0);
  p->acceptor_.open(ep.protocol(), ec);
  if (!ec) p->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) p->acceptor_.set_option(ReusePort(true), ec);
  if (!ec) p->acceptor_.bind(ep, ec);
  if (!ec) p->acceptor_.listen(4, ec);
  if (!ec) p->local_ = p->acceptor_.local_endpoint(ec);
  if (ec)
    throw Error::from_system(ec, "hole punch: cannot listen on " + local_ip, Errc::kUnavailable);
  return p;
}

Task<Punch::tcp::socket> Punch::run(tcp::endpoint remote, Duration timeout) {
  auto self = shared_from_this();
  auto body = [](std::shared_ptr<Punch> self, tcp::endpoint remote,
                 Duration timeout) -> Task<void> {
    self->remote_ = remote;
    self->deadline_.expires_after(timeout);
    self->deadline_.async_wait([self](boost::system::error_code ec) {
      if (ec || self->over_) return;
      self->last_error_ = "no connection within the deadline (" + self->last_error_ + ")";
      self->finish(std::nullopt);
    });
    self->signal_.expires_at(Timer::time_point::max());
    self->start_accept();
    self->start_connect();
    if (!self->over_) {
      auto wait = self->signal_.async_wait(asio::as_tuple(use_awaitable));
      co_await std::move(wait);
    }
  };
  // On the punch's strand, bound to no cancellation slot (see
  // NodeCore::connect on Boost 1.81's co_spawn).
  auto op = asio::co_spawn(strand_, body(self, remote, timeout),
                           asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
  co_await std::move(op);
  // The strand is done with result_: finish() ran before the wait ended.
  if (!result_) {
    throw Error(Errc::kTimeout, "hole punch to " + remote.address().to_string() + ":" +
                                    std::to_string(remote.port()) + ": " + last_error_);
  }
  tcp::socket s = std::move(*result_);
  result_.reset();
  co_return s;
}

void Punch::start_connect() {
  if (over_) return;
  connector_.emplace(exec_);
  boost::system::error_code ec;
  connector_->open(local_.protocol(), ec);
  if (!ec) connector_->set_option(tcp::socket::reuse_address(true), ec);
  if (!ec) connector_->set_option(ReusePort(true), ec);
  if (!ec) connector_->bind(local_, ec);
  if (ec) {
    last_error_ = "cannot bind the dialing socket: " + ec.message();
    finish(std::nullopt);
    return;
  }
  ++attempts_;
  auto self = shared_from_this();
  connector_->async_connect(remote_,
                            asio::bind_executor(strand_, [self](boost::system::error_code ec) {
                              if (self->over_) return;
                              if (!ec) {
                                tcp::socket s = std::move(*self->connector_);
                                self->connector_.reset();
                                self->finish(std::move(s));
                                return;
                              }
                              // Refused (the other side does not dial yet and nothing filters), or
                              // its NAT answered for it: dial again shortly, from the same port.
                              self->last_error_ = ec.message();
                              boost::system::error_code ignored;
                              self->connector_->close(ignored);
                              self->connector_.reset();
                              self->retry_.expires_after(kRetryAfter);
                              self->retry_.async_wait([self](boost::system::error_code ec) {
                                if (!ec) self->start_connect();
                              });
                            }));
}

void Punch::start_accept() {
  if (over_) return;
  auto self = shared_from_this();
  acceptor_.async_accept(
      exec_, asio::bind_executor(strand_, [self](boost::system::error_code ec, tcp::socket s) {
        if (self->over_) return;
        if (ec) return;  // the listener failed: the dialer may still make it
        boost::system::error_code rec;
        auto from = s.remote_endpoint(rec);
        // The other side, whatever port its NAT gave it; anyone else is
        // closed (the handshake would refuse them anyway).
        if (rec || from.address() != self->remote_.address()) {
          s.close(rec);
          self->start_accept();
          return;
        }
        self->finish(std::move(s));
      }));
}

void Punch::finish(std::optional<tcp::socket> s) {
  if (over_) return;
  over_ = true;
  result_ = std::move(s);
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  if (connector_) connector_->close(ignored);
  deadline_.cancel();
  retry_.cancel();
  signal_.cancel();
}

}  // namespace peers::rpc::internal
