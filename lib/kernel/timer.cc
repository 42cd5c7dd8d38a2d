#include "lib/kernel/timer.h"

#include <boost/asio/post.hpp>
#include <stdexcept>

namespace peers {

namespace asio = boost::asio;

namespace detail {

struct VirtualTimerState {
  asio::any_io_executor ex;
  Clock::time_point expiry{};
  std::vector<Timer::WaitHandler> waiters;
  std::optional<VirtualTime::Key> key;  // where it is armed
};

}  // namespace detail

namespace {

void complete(asio::any_io_executor ex, Timer::WaitHandler h, boost::system::error_code ec) {
  // Virtual time runs on one thread, so invoking a handler from the
  // executor's queue never races its strand. (Not asio::append: with an
  // any_completion_handler it recurses without end in Boost 1.81.)
  asio::post(ex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
}

std::size_t fail_all(detail::VirtualTimerState& s) {
  auto waiters = std::move(s.waiters);
  s.waiters.clear();
  for (auto& h : waiters) complete(s.ex, std::move(h), asio::error::operation_aborted);
  return waiters.size();
}

}  // namespace

Timer::Timer(const executor_type& ex) : real_(ex) {
  if (VirtualTime::current() != nullptr) {
    virt_ = std::make_shared<detail::VirtualTimerState>();
    virt_->ex = ex;
  }
}

Timer::~Timer() {
  if (!virt_) return;
  if (auto* vt = VirtualTime::current()) vt->disarm(*virt_);
  fail_all(*virt_);
}

std::size_t Timer::expires_at(time_point t) {
  if (!virt_) return real_.expires_at(t);
  if (auto* vt = VirtualTime::current()) vt->disarm(*virt_);
  virt_->expiry = t;
  return fail_all(*virt_);
}

Timer::time_point Timer::expiry() const { return virt_ ? virt_->expiry : real_.expiry(); }

std::size_t Timer::cancel() {
  if (!virt_) return real_.cancel();
  if (auto* vt = VirtualTime::current()) vt->disarm(*virt_);
  return fail_all(*virt_);
}

void Timer::wait_virtual(WaitHandler handler) {
  auto* vt = VirtualTime::current();
  if (vt == nullptr || virt_->expiry <= vt->now()) {
    complete(virt_->ex, std::move(handler), {});
    return;
  }
  virt_->waiters.push_back(std::move(handler));
  if (!virt_->key) vt->arm(virt_);
}

VirtualTime::VirtualTime(Clock::time_point start) {
  if (current_ != nullptr) throw std::logic_error("a VirtualTime exists already");
  current_ = this;
  Clock::virtual_now_ = start;
  Clock::virtual_ = true;
}

VirtualTime::~VirtualTime() {
  Clock::virtual_ = false;
  current_ = nullptr;
}

void VirtualTime::arm(const std::shared_ptr<detail::VirtualTimerState>& t) {
  Key k{t->expiry, next_seq_++};
  armed_.emplace(k, Armed{t, {}});
  t->key = k;
}

void VirtualTime::disarm(detail::VirtualTimerState& t) {
  if (!t.key) return;
  armed_.erase(*t.key);
  t.key.reset();
}

void VirtualTime::call_at(Clock::time_point t, std::function<void()> fn) {
  armed_.emplace(Key{std::max(t, now()), next_seq_++}, Armed{{}, std::move(fn)});
}

std::optional<Clock::time_point> VirtualTime::next_deadline() {
  while (!armed_.empty()) {
    auto it = armed_.begin();
    if (it->second.fn) return it->first.first;
    if (auto t = it->second.timer.lock(); t && !t->waiters.empty()) return it->first.first;
    armed_.erase(it);
  }
  return std::nullopt;
}

void VirtualTime::advance_to(Clock::time_point t) {
  while (!armed_.empty() && armed_.begin()->first.first <= t) {
    auto it = armed_.begin();
    auto state = it->second.timer.lock();
    auto fn = std::move(it->second.fn);
    Clock::virtual_now_ = std::max(Clock::virtual_now_, it->first.first);
    armed_.erase(it);
    if (fn) {
      fn();
      continue;
    }
    if (!state) continue;
    state->key.reset();
    auto waiters = std::move(state->waiters);
    state->waiters.clear();
    for (auto& h : waiters) complete(state->ex, std::move(h), {});
  }
  Clock::virtual_now_ = std::max(Clock::virtual_now_, t);
}

}  // namespace peers
