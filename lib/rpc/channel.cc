#include <boost/asio/append.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "lib/rpc/connection.h"
#include "lib/rpc/internal/node_core.h"

namespace peers::rpc {

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

}  // namespace

DataChannel::DataChannel(std::shared_ptr<Connection> conn, std::uint64_t id, std::size_t window)
    : conn_(std::move(conn)),
      id_(id),
      window_(window),
      send_credit_(static_cast<std::int64_t>(window)) {}

DataChannel::~DataChannel() = default;

Task<void> DataChannel::write(std::string payload) {
  if (payload.size() > wire::kMaxFrameSize - 64) {
    throw Error(Errc::kInvalidArgument, "data payload of " + std::to_string(payload.size()) +
                                            " bytes exceeds the frame limit");
  }
  auto self = shared_from_this();
  // One hop onto the strand per payload: it is sent there at once if the
  // receiver has granted room (so records keep their order), else the writer
  // waits for credit and looks again. The handler only borrows `payload`:
  // this frame stays suspended until the handler has completed it.
  for (;;) {
    auto state = co_await asio::async_initiate<decltype(use_awaitable), void(int)>(
        [this, p = &payload](auto handler) {
          auto self = shared_from_this();
          asio::dispatch(
              conn_->strand_,
              [self, p,
               h = Completion<int>::wrap(std::move(handler), self->conn_->strand_exec_)]() mutable {
                if (self->error_ || self->local_closed_ || !self->conn_->is_open()) {
                  h(2);
                } else if (self->send_credit_ >=
                           static_cast<std::int64_t>(std::min(p->size(), self->window_))) {
                  self->send_credit_ -= static_cast<std::int64_t>(p->size());
                  self->conn_->emit_data(self->id_, *p);
                  h(0);
                } else {
                  self->writer_wait_ = Completion<>([h = std::move(h)]() mutable { h(1); });
                }
              });
        },
        use_awaitable);
    if (state == 2) {
      if (error_) throw *error_;
      throw Error(Errc::kConnectionLost,
                  local_closed_ ? "data channel is closed" : "connection closed");
    }
    if (state == 0) co_return;
  }
}

Task<std::optional<std::string>> DataChannel::read() {
  auto self = shared_from_this();
  for (;;) {
    // 0: a payload is ready; 1: end of stream; 2: error; 3: woken, look again.
    auto [state, payload] = co_await asio::async_initiate<decltype(use_awaitable),
                                                          void(int, std::string)>(
        [this](auto handler) {
          auto self = shared_from_this();
          asio::dispatch(conn_->strand_, [self, h = Completion<int, std::string>::wrap(std::move(handler), self->conn_->strand_exec_)]() mutable {
            if (!self->inbox_.empty()) {
              std::string p = std::move(self->inbox_.front());
              self->inbox_.pop_front();
              self->inbox_bytes_ -= p.size();
              self->unacked_ += p.size();
              if (self->unacked_ >= self->window_ / 4 && self->conn_->is_open()) {
                std::uint64_t grant = self->unacked_;
                self->unacked_ = 0;
                self->conn_->emit([&](std::string& out) { wire::encode_credit(out, self->id_, grant); });
                self->conn_->flush();
              }
              h(0, std::move(p));
            } else if (self->error_) {
              h(2, std::string());
            } else if (self->remote_closed_) {
              h(1, std::string());
            } else {
              self->reader_wait_ = Completion<>([h = std::move(h)]() mutable { h(3, std::string()); });
            }
          });
        },
        use_awaitable);
    if (state == 0) co_return std::move(payload);
    if (state == 1) co_return std::nullopt;
    if (state == 2) throw *error_;
  }
}

void DataChannel::close() {
  asio::dispatch(conn_->strand_, [self = shared_from_this()] {
    if (self->local_closed_) return;
    self->local_closed_ = true;
    if (self->conn_->is_open()) {
      self->conn_->emit(
          [&](std::string& out) { wire::encode_close_channel(out, self->id_, nullptr); });
      self->conn_->flush();
    }
    self->wake_writer();
    if (self->remote_closed_) self->conn_->channels_.erase(self->id_);
  });
}

void DataChannel::fail(const Error& e) {
  asio::dispatch(conn_->strand_, [self = shared_from_this(), e] {
    if (self->local_closed_ && self->remote_closed_) return;
    self->local_closed_ = true;
    if (self->conn_->is_open()) {
      wire::ErrorBody b{e.code(), e.type_name(), e.message(), e.origin(), "", ""};
      self->conn_->emit([&](std::string& out) { wire::encode_close_channel(out, self->id_, &b); });
      self->conn_->flush();
    }
    self->conn_->channels_.erase(self->id_);
    self->wake_writer();
  });
}

void DataChannel::on_data(std::string_view payload) {
  if (inbox_bytes_ + payload.size() > window_ + 64) {
    conn_->do_close(Error(Errc::kProtocol, "data channel " + std::to_string(id_) +
                                               " overran its flow-control window"),
                    false);
    return;
  }
  if (remote_closed_) return;
  inbox_.emplace_back(payload);
  inbox_bytes_ += payload.size();
  wake_reader();
}

void DataChannel::on_credit(std::uint64_t bytes) {
  send_credit_ += static_cast<std::int64_t>(std::min<std::uint64_t>(bytes, window_ * 4));
  wake_writer();
}

void DataChannel::on_close(std::optional<Error> error) {
  remote_closed_ = true;
  if (error) error_ = std::move(error);
  if (local_closed_ || error_) conn_->channels_.erase(id_);
  wake_reader();
  wake_writer();
}

void DataChannel::wake_reader() {
  if (reader_wait_) reader_wait_();
}

void DataChannel::wake_writer() {
  if (writer_wait_) writer_wait_();
}

}  // namespace peers::rpc
