"""peers_fuzz_target: one libFuzzer target and the test that runs its seeds.

    load("//fuzz:defs.bzl", "peers_fuzz_target")

    peers_fuzz_target(
        name = "frame",
        srcs = ["frame_fuzz.cc"],     # defines LLVMFuzzerTestOneInput
        deps = ["//lib/wire"],
    )

makes
  :frame       cc_binary. With --config=fuzz (scripts/fuzz) it is a libFuzzer
               binary; otherwise it runs LLVMFuzzerTestOneInput once on each
               file or directory named on its command line (corpus_main.cc).
  :frame_test  cc_test: the same function over every file of
               testdata/fuzz/frame/ (scripts/test runs it with gcc, and the
               sanitizer configs run it with clang).
"""

def peers_fuzz_target(name, srcs, deps = [], testonly = False):
    """A fuzz target and the test over its seed corpus.

    Args:
      name: the target's name; its seeds are in testdata/fuzz/<name>/.
      srcs: sources; one of them defines LLVMFuzzerTestOneInput.
      deps: what they use.
      testonly: set when deps are testonly (fixtures of testdata/).
    """
    native.cc_library(
        name = name + "_target",
        testonly = testonly,
        srcs = srcs,
        deps = deps + ["//fuzz:fuzz_input"],
        alwayslink = True,
    )
    native.cc_binary(
        name = name,
        testonly = testonly,
        deps = [":" + name + "_target"] + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:corpus_main"],
        }),
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )
    native.cc_test(
        name = name + "_test",
        size = "small",
        args = ["testdata/fuzz/" + name],
        data = ["//testdata/fuzz:" + name],
        deps = [
            ":" + name + "_target",
            "//fuzz:corpus_main",
        ],
    )
