"""peers_idl_library: compiles .pidl files with peers-idlc into a cc_library.

    load("//idlc:defs.bzl", "peers_idl_library")

    peers_idl_library(
        name = "overlay",
        srcs = ["overlay.pidl"],       # proto/overlay.pidl
        deps = [":common"],            # a peers_idl_library whose files it imports
    )

makes
  :overlay             cc_library of the types; C++ includes "proto/overlay.pidl.h"
  :overlay_rpc         cc_library of the RPC stubs (OverlayClient, OverlayServer);
                       C++ includes "proto/overlay.pidl.rpc.h". It depends on
                       :overlay, //lib/rpc (Boost.Asio) and the _rpc libraries
                       of deps; :overlay itself stays free of Boost.
  :overlay_descriptor  filegroup of the JSON descriptors (proto/overlay.pidl.json)
                       of this library and of its deps, for tools
  :overlay_pidl        filegroup of the .pidl files of this library and its deps
                       (what importing libraries need to read)
  :overlay_gen         the genrule that runs peers-idlc

Imports are written relative to the workspace root ("proto/common.pidl") or to
the importing file. The cc_libraries are alwayslink, so the error types the
types library registers at static initialisation are never dropped by the
linker. Every .pidl gets .rpc.h/.rpc.cc files (nearly empty when it declares no
interfaces), so the outputs do not depend on the files' contents.
"""

_IDLC = "//idlc:peers-idlc"

_RUNTIME_DEPS = [
    "//lib/idl:runtime",
    "//lib/kernel",
    "//lib/wire",
]

_RPC_RUNTIME_DEPS = [
    "//lib/idl:rpc_runtime",
    "//lib/rpc",
]

def _sibling(label, suffix):
    """"//a/b:c" + "_pidl" -> "//a/b:c_pidl"; "//a/b" -> "//a/b:b_pidl"."""
    if ":" in label:
        return label + suffix
    return label + ":" + label.split("/")[-1] + suffix

def peers_idl_library(name, srcs, deps = [], visibility = None, testonly = False):
    """Compiles srcs (.pidl files of this package) into C++ and JSON descriptors.

    Args:
      name: the types cc_library's name; the stubs' is name + "_rpc".
      srcs: .pidl files in this package.
      deps: other peers_idl_library targets whose files srcs import.
      visibility: visibility of all the targets made.
      testonly: as for any rule.
    """
    for src in srcs:
        if ":" in src or not src.endswith(".pidl"):
            fail("peers_idl_library srcs must be .pidl files of this package, not " + src)

    native.filegroup(
        name = name + "_pidl",
        srcs = srcs + [_sibling(d, "_pidl") for d in deps],
        visibility = visibility,
        testonly = testonly,
    )

    hdrs = [src + ".h" for src in srcs]
    ccs = [src + ".cc" for src in srcs]
    rpc_hdrs = [src + ".rpc.h" for src in srcs]
    rpc_ccs = [src + ".rpc.cc" for src in srcs]
    jsons = [src + ".json" for src in srcs]
    files = " ".join(["$(location %s)" % src for src in srcs])

    # $(GENDIR) is the root of the output tree: peers-idlc writes
    # OUTDIR/<path as given>, i.e. right where Bazel expects each output.
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [_sibling(d, "_pidl") for d in deps],
        outs = hdrs + ccs + rpc_hdrs + rpc_ccs + jsons,
        cmd = " && ".join([
            "$(location %s) --lang %s -I . -o $(GENDIR) %s" % (_IDLC, lang, files)
            for lang in ["cpp", "rpc", "json"]
        ]),
        tools = [_IDLC],
        message = "peers-idlc %s" % name,
        visibility = visibility,
        testonly = testonly,
    )

    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        deps = _RUNTIME_DEPS + deps,
        alwayslink = True,
        visibility = visibility,
        testonly = testonly,
    )

    native.cc_library(
        name = name + "_rpc",
        srcs = rpc_ccs,
        hdrs = rpc_hdrs,
        deps = [":" + name] + _RPC_RUNTIME_DEPS + [_sibling(d, "_rpc") for d in deps],
        alwayslink = True,
        visibility = visibility,
        testonly = testonly,
    )

    native.filegroup(
        name = name + "_descriptor",
        srcs = jsons + [_sibling(d, "_descriptor") for d in deps],
        visibility = visibility,
        testonly = testonly,
    )

def peers_idl_embedded_descriptors(name, srcs, out, header, namespace, testonly = False):
    """Compiles JSON descriptors into a .cc file, so a binary needs no data files.

    The file defines `std::vector<std::string_view> <namespace>::embedded_descriptors()`
    (declared in `header`), one document per file of srcs, in order.

    Args:
      name: the genrule's name.
      srcs: descriptor files or filegroups (a peers_idl_library's _descriptor).
      out: the .cc file to write.
      header: the header that declares the function, as included.
      namespace: the function's namespace ("vt", "peers::fuzz").
      testonly: as for any rule.
    """
    native.genrule(
        name = name,
        srcs = srcs,
        outs = [out],
        testonly = testonly,
        cmd = """
{
  echo '// Generated from JSON descriptors by peers_idl_embedded_descriptors (%s).'
  echo '#include "%s"'
  echo 'namespace %s {'
  echo 'std::vector<std::string_view> embedded_descriptors() {'
  echo '  return {'
  for f in $(SRCS); do
    if grep -q ')pidl_json' $$f; then echo "delimiter found in $$f" >&2; exit 1; fi
    printf '      R"pidl_json('
    cat $$f
    echo ')pidl_json",'
  done
  echo '  };'
  echo '}'
  echo '}  // namespace %s'
} > $@
""" % (name, header, namespace, namespace),
    )
