#include "lib/kernel/timer.h"

#include <algorithm>
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
  std::uint32_t slot = 0;               // with key: its slot in the VirtualTime
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

Timer::Timer(const executor_type& ex) {
  if (VirtualTime::current() != nullptr) {
    virt_ = std::make_shared<detail::VirtualTimerState>();
    virt_->ex = ex;
  } else {
    real_.emplace(ex);
  }
}

Timer::executor_type Timer::get_executor() { return virt_ ? virt_->ex : real_->get_executor(); }

Timer::~Timer() {
  if (!virt_) return;
  if (auto* vt = VirtualTime::current()) vt->disarm(*virt_);
  fail_all(*virt_);
}

std::size_t Timer::expires_at(time_point t) {
  if (!virt_) return real_->expires_at(t);
  if (auto* vt = VirtualTime::current()) vt->disarm(*virt_);
  virt_->expiry = t;
  return fail_all(*virt_);
}

Timer::time_point Timer::expiry() const { return virt_ ? virt_->expiry : real_->expiry(); }

std::size_t Timer::cancel() {
  if (!virt_) return real_->cancel();
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

namespace {

bool later(Clock::time_point at_a, std::uint64_t seq_a, Clock::time_point at_b,
           std::uint64_t seq_b) {
  return at_a > at_b || (at_a == at_b && seq_a > seq_b);
}

}  // namespace

std::uint32_t VirtualTime::push(Clock::time_point at) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  heap_.push_back({at, next_seq_++, slot});
  std::push_heap(heap_.begin(), heap_.end(),
                 [](const Entry& a, const Entry& b) { return later(a.at, a.seq, b.at, b.seq); });
  ++live_;
  return slot;
}

VirtualTime::Entry VirtualTime::pop() {
  std::pop_heap(heap_.begin(), heap_.end(),
                [](const Entry& a, const Entry& b) { return later(a.at, a.seq, b.at, b.seq); });
  Entry e = heap_.back();
  heap_.pop_back();
  free_slots_.push_back(e.slot);
  return e;
}

void VirtualTime::arm(const std::shared_ptr<detail::VirtualTimerState>& t) {
  std::uint32_t slot = push(t->expiry);
  slots_[slot].timer = t.get();
  t->key = Key{t->expiry, next_seq_ - 1};
  t->slot = slot;
}

void VirtualTime::disarm(detail::VirtualTimerState& t) {
  if (!t.key) return;
  slots_[t.slot].timer = nullptr;
  t.key.reset();
  --live_;
}

void VirtualTime::call_at(Clock::time_point t, std::function<void()> fn) {
  std::uint32_t slot = push(std::max(t, now()));
  slots_[slot].fn = std::move(fn);
}

std::optional<Clock::time_point> VirtualTime::next_deadline() {
  while (!heap_.empty()) {
    const Entry& top = heap_.front();
    Slot& s = slots_[top.slot];
    if (s.fn) return top.at;
    if (s.timer && !s.timer->waiters.empty()) return top.at;
    // A disarmed timer's entry, or one nobody waits on any more.
    if (s.timer) {
      s.timer->key.reset();
      s.timer = nullptr;
      --live_;
    }
    pop();
  }
  return std::nullopt;
}

void VirtualTime::advance_to(Clock::time_point t) {
  while (!heap_.empty() && heap_.front().at <= t) {
    Entry e = pop();
    Slot& s = slots_[e.slot];
    auto fn = std::move(s.fn);
    s.fn = nullptr;
    detail::VirtualTimerState* state = std::exchange(s.timer, nullptr);
    Clock::virtual_now_ = std::max(Clock::virtual_now_, e.at);
    if (fn) {
      --live_;
      fn();  // may arm more: slots_ and heap_ may move
      continue;
    }
    if (!state) continue;
    --live_;
    state->key.reset();
    auto waiters = std::move(state->waiters);
    state->waiters.clear();
    for (auto& h : waiters) complete(state->ex, std::move(h), {});
  }
  Clock::virtual_now_ = std::max(Clock::virtual_now_, t);
}

}  // namespace peers
