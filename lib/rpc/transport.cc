#include "lib/rpc/transport.h"

#include "lib/rpc/address.h"

namespace peers::rpc {

namespace asio = boost::asio;

namespace {

std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  return join_host_port(addr.to_string(), ep.port());
}

}  // namespace

std::string Socket::local_address() const {
  if (other_) return other_->local_address();
  boost::system::error_code ec;
  auto ep = tcp_->local_endpoint(ec);
  return ec ? "" : endpoint_text(ep);
}

std::string Socket::remote_address() const {
  if (other_) return other_->remote_address();
  boost::system::error_code ec;
  auto ep = tcp_->remote_endpoint(ec);
  return ec ? "" : endpoint_text(ep);
}

TcpPath Socket::path() const {
  if (other_) return other_->path();
  if (!tcp_->is_open()) return {};
  return read_tcp_path(const_cast<tcp::socket&>(*tcp_).native_handle());
}

void Socket::prepare() {
  if (other_) return;
  boost::system::error_code ec;
  tcp_->set_option(tcp::no_delay(true), ec);
  // Connection::flush() writes synchronously first and must never block.
  tcp_->non_blocking(true, ec);
}

void Socket::close(bool abort) {
  if (other_) {
    other_->close(abort);
    return;
  }
  boost::system::error_code ec;
  if (!tcp_->is_open()) return;
  if (abort) {
    tcp_->set_option(tcp::socket::linger(true, 0), ec);
  } else {
    tcp_->shutdown(tcp::socket::shutdown_both, ec);
  }
  tcp_->close(ec);
}

}  // namespace peers::rpc
