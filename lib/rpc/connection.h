// One authenticated, encrypted connection between two nodes.
//
// A Connection carries calls in both directions (either side may call the
// other: reverse channel calls), one-way events, and raw data channels, all
// interleaved on one TCP stream. Many calls may be outstanding; replies come
// back in any order; incoming calls start in arrival order.
//
// Threads: each Connection runs on its own strand. Its public methods may be
// called from any thread; they hop onto the strand. Awaiting call() from a
// coroutine suspends it until the reply; call_sync() blocks a thread that is
// not running the io_context.
//
//   auto conn = co_await node.connect("127.0.0.1:7000");
//   std::string reply = co_await conn->call(Method::kId, req.encode());
#pragma once

#include <atomic>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/crypto/identity.h"
#include "lib/crypto/session.h"
#include "lib/kernel/error.h"
#include "lib/kernel/timer.h"
#include "lib/rpc/completion.h"
#include "lib/rpc/internal/read_buffer.h"
#include "lib/rpc/tcp_path.h"
#include "lib/rpc/transport.h"
#include "lib/rpc/types.h"
#include "lib/wire/frame.h"

namespace peers::rpc {

namespace internal {
class NodeCore;
}

struct ConnectionStats {
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::uint64_t frames_in = 0, frames_out = 0;
  std::uint64_t calls_out = 0, calls_in = 0;
  std::uint32_t pending_calls = 0;
  double rtt_ms = -1;  // from keepalive pings; -1 until measured
};

// A raw byte channel opened by a `data` method. Payloads are sent as DATA
// frames without re-encoding. Credit-based flow control: the receiver grants
// a window, the sender waits when it is used up, so a slow reader bounds the
// sender's memory.
//
// Threads: any thread may write, read and close. A write with credit to spend
// and a read with a payload waiting complete without suspending the caller
// (the channel's own lock guards the queue and the credit; frames are put on
// the wire on the connection's strand, at once when the caller is on it).
// Several writers may wait for credit at once; each payload is sent whole.
class DataChannel : public std::enable_shared_from_this<DataChannel> {
 public:
  std::uint64_t id() const { return id_; }
  // Sends one payload (at most wire::kMaxFrameSize - 64 bytes); waits for credit.
  Task<void> write(std::string payload);
  // The next payload; std::nullopt when the other side closed the channel.
  // Throws the Error the other side closed with, or a connection error.
  Task<std::optional<std::string>> read();
  // Ends this side's sending; the reader sees std::nullopt. Idempotent.
  void close();
  // Ends the channel with an error the other side sees on read(); this
  // side's read() and write() throw it from then on.
  void fail(const Error& e);
  // Keeps at most `bytes` of this side's writes unacknowledged (in flight),
  // below the channel window: a sender that wants its backlog where it can
  // see it (its own queue) rather than in buffers on the way. Call before
  // the first write; at least one payload always fits. Never below 32 KiB
  // (a reader returns credit after at most 16 KiB read).
  void set_send_limit(std::size_t bytes);

  // Internal (Connection): construct via Connection only.
  DataChannel(std::shared_ptr<Connection> conn, std::uint64_t id, std::size_t window);
  ~DataChannel();

 private:
  friend class Connection;
  // On the connection's strand:
  void on_data(std::string_view payload);
  void on_credit(std::uint64_t bytes);
  void on_close(std::optional<Error> error);

  Task<void> wait_until(bool for_reader, std::int64_t credit);
  void send_payload(std::string payload);
  void send_credit(std::uint64_t bytes);
  // Takes the waiters of one kind (or both); call them after unlocking.
  std::vector<Completion<>> take_waiters_locked(bool readers, bool writers);

  std::shared_ptr<Connection> conn_;
  std::uint64_t id_;
  std::size_t window_;

  std::mutex mu_;  // guards everything below
  std::int64_t send_credit_;
  std::size_t send_limit_;   // set_send_limit(); the window by default
  std::size_t unacked_ = 0;  // consumed bytes not yet returned as credit
  std::deque<std::string> inbox_;
  std::size_t inbox_bytes_ = 0;
  bool remote_closed_ = false;
  bool local_closed_ = false;
  std::optional<Error> error_;
  // On the strand only: CLOSE_CHANNEL has been sent, so a DATA frame that
  // was queued for the strand before the close but reaches it after is
  // dropped (the peer would drop it anyway).
  bool close_sent_ = false;
  std::vector<Completion<>> reader_waits_;
  std::vector<Completion<>> writer_waits_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using ReplyHandler = Completion<std::exception_ptr, std::string>;

  ~Connection();

  // The other side's identity, proven in the handshake.
  const PeerId& peer() const { return peer_; }
  // Where the other side accepts connections ("" if it does not listen).
  const std::string& peer_listen_addr() const { return peer_listen_addr_; }
  // "127.0.0.1:54012"
  const std::string& remote_address() const { return remote_address_; }
  // This side's address of the connection, "10.0.0.2:7000".
  const std::string& local_address() const { return local_address_; }
  // This side's address as the other side sees it ("" if it did not say):
  // past a NAT, the NAT's public address and port.
  const std::string& observed_address() const { return observed_address_; }
  // What this side told the peer in the handshake: where to dial it ("" if
  // it knows no address the peer could use; see rpc/address.h).
  const std::string& advertised_addr() const { return advertised_addr_; }
  bool outbound() const { return outbound_; }
  Cipher cipher() const { return cipher_; }
  // False from the moment close() or close_soon() is called, though the
  // close itself runs later on the connection's strand: a closing connection
  // is never handed out for new calls.
  bool is_open() const { return open_.load() && !closing_.load(); }
  ConnectionStats stats() const;
  // One getsockopt(); call it from the thread that runs the node (a
  // single-threaded io_context) so that the socket is not closed meanwhile.
  TcpPath tcp_path() const;
  const Executor& executor() const { return strand_exec_; }

  // Calls a method; completes with the encoded result or throws the Error the
  // callee raised (as its typed C++ class when registered), a timeout, or a
  // connection error. Any thread.
  Task<std::string> call(std::uint32_t method_id, std::string args, CallOptions options = {});
  // The same, blocking; from a thread that does not run the io_context.
  std::string call_sync(std::uint32_t method_id, std::string args, CallOptions options = {});
  // Calls a `data` method: the result and the channel it opened.
  Task<std::pair<std::string, std::shared_ptr<DataChannel>>> call_with_channel(
      std::uint32_t method_id, std::string args, CallOptions options = {});
  // A one-way event; queued in order, never waits. Any thread.
  void send_event(std::uint32_t method_id, std::string args);

  // Clean shutdown: sends GOAWAY (the other side starts no new calls here),
  // lets calls in flight in both directions finish (up to `grace`), then closes.
  Task<void> goaway(std::string reason, Duration grace = std::chrono::seconds(5));
  // Closes now; every pending call fails with `reason`. Any thread.
  void close(Error reason);
  // Completes when the connection has closed; returns why.
  Task<Error> wait_closed();

  // Internal: made by Node.
  Connection(std::shared_ptr<internal::NodeCore> node, Socket socket, bool outbound);

 private:
  friend class internal::NodeCore;
  friend class DataChannel;
  struct Inbound;  // an incoming call being served

  Task<void> run_handshake(std::optional<PeerId> expected);
  Task<void> read_loop();
  Task<void> keepalive_loop();
  Task<Result<std::string_view>> read_record();
  Task<Result<void>> fill_input(std::size_t need);
  void handle_frame(const wire::Frame& f);
  void serve_call(const wire::Frame& f);
  Task<void> run_call(std::shared_ptr<Inbound> in, std::string args);
  void finish_call(const std::shared_ptr<Inbound>& in, std::exception_ptr error,
                   std::string result);
  void serve_event(const wire::Frame& f);
  void start_call(ReplyHandler handler, std::uint32_t method_id, std::string args,
                  CallOptions options, std::shared_ptr<DataChannel>* channel);

  // Appends one sealed record built by `encode(out)`; starts a write if idle.
  template <typename F>
  void emit(F&& encode) {
    std::size_t at = begin_record();
    encode(out_);
    end_record(at);
  }
  std::size_t begin_record();
  void end_record(std::size_t at);
  void emit_data(std::uint64_t channel_id, std::string_view payload);
  // CONT_REPLY (no error) or CONT_ERROR, flushed; nothing if closed. On the strand.
  void emit_continuation(const wire::Continuation& c, const std::optional<wire::ErrorBody>& error,
                         const std::string& result);
  void flush();
  void do_close(const Error& reason, bool send_goaway);
  // do_close() from the event loop: for paths that write (emit, flush), whose
  // callers may be walking lists that closing changes (on_disconnect runs
  // inside do_close()).
  void close_soon(Error reason);
  void fail_pending(const Error& reason);
  // The node timed out call `id` made here: forget it and tell the callee.
  void call_timed_out(std::uint64_t id);
  std::shared_ptr<DataChannel> open_channel(std::uint64_t id);
  void check_drained();
  // An accepted connection holds a place in the node's admission counts
  // (NodeOptions::max_handshakes, ...) from accept until its handshake ends
  // and until it closes. Idempotent; on the strand, or with no one else
  // holding the connection.
  void admitted(std::string address);
  void leave_handshake();
  void leave_admission();

  std::shared_ptr<internal::NodeCore> node_;
  // On the io_context's own executor type, not any_io_executor: a
  // strand<any_io_executor> is too large for any_io_executor's inline
  // storage, so every copy of strand_exec_ (each work guard, dispatch and
  // co_spawn on it) allocated.
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  Executor strand_exec_;
  Socket socket_;
  bool outbound_;
  std::atomic<bool> open_{true};
  std::atomic<bool> closing_{false};  // close() was called; see is_open()
  bool established_ = false;
  bool goaway_received_ = false;
  bool goaway_sent_ = false;
  PeerId peer_{PublicKey{}};
  std::string peer_listen_addr_;
  std::string remote_address_;
  std::string local_address_;
  std::string observed_address_;
  std::string advertised_addr_;
  Cipher cipher_ = Cipher::kPlain;
  std::array<std::uint8_t, 32> binding_key_{};
  RecordCipher tx_, rx_;

  // Reading: received bytes not yet handled, sized by what arrives.
  internal::ReadBuffer in_;
  // Admission (see admitted()): the remote IP address it counts under.
  std::string admitted_address_;
  bool in_handshake_count_ = false;
  bool in_admission_count_ = false;

  // Writing: records queued while a write is in flight.
  std::string out_, writing_;
  bool write_in_flight_ = false;
  // Set by a write made by flush(); until the read loop next waits for or
  // receives input (or a posted uncork runs), flush() queues records instead
  // of writing.
  bool corked_ = false;
  bool uncork_posted_ = false;
  bool close_pending_ = false;  // close_soon() has posted its do_close()
  // When the write in flight began; keepalive_loop() closes a connection
  // whose write has not finished within idle_timeout (the peer stopped
  // reading). A timestamp, not a timer re-armed per write: that cost a timer
  // wait and a cancelled-handler run on every flush.
  std::chrono::steady_clock::time_point write_started_;

  // Calls this side made that await an answer here (ids are node-wide).
  std::unordered_map<std::uint64_t, bool> my_calls_;
  // Calls the other side made that are being served.
  std::unordered_map<std::uint64_t, std::shared_ptr<Inbound>> inbound_;
  std::unordered_map<std::uint64_t, std::shared_ptr<DataChannel>> channels_;

  std::optional<Error> close_reason_;
  std::vector<Completion<>> close_waiters_;
  std::vector<Completion<>> drain_waiters_;
  Timer keepalive_timer_;
  std::chrono::steady_clock::time_point last_rx_;
  std::uint64_t ping_sent_at_ns_ = 0;
  struct Counters {
    std::atomic<std::uint64_t> bytes_in{0}, bytes_out{0}, frames_in{0}, frames_out{0};
    std::atomic<std::uint64_t> calls_out{0}, calls_in{0};
    std::atomic<std::uint32_t> pending{0};
    std::atomic<std::int64_t> rtt_us{-1};
  } counters_;
};

}  // namespace peers::rpc
