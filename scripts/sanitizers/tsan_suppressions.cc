// ThreadSanitizer's suppressions, compiled into every binary and test of
// bazel test --config=tsan (.bazelrc links this library into all of them
// with --custom_malloc), so no suppressions file has to be found at run time,
// also by the tools the integration tests start.

extern "C" const char* __tsan_default_suppressions() {
  // libstdc++ (not built with -fsanitize=thread) releases the count of a
  // std::exception_ptr with atomics TSan does not see: a false race between
  // two threads that drop copies of one exception.
  return "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
