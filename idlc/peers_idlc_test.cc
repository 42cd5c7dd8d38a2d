// Runs the real peers-idlc binary (from runfiles) on the files in testdata:
// every file in testdata/bad must fail with exactly the errors its
// "// expect: " lines give and exit code 2; good files must compile.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string runfiles_root() { return env("TEST_SRCDIR") + "/vidtorrent"; }
std::string idlc() { return runfiles_root() + "/idlc/peers-idlc"; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct IdlcRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs peers-idlc with `args` in directory `cwd`, capturing stdout and stderr.
IdlcRun run_idlc(const std::vector<std::string>& args, const std::string& cwd = runfiles_root()) {
  static int serial = 0;
  fs::path tmp = fs::path(env("TEST_TMPDIR")) / ("run" + std::to_string(serial++));
  fs::create_directories(tmp);
  std::string out_path = (tmp / "stdout").string();
  std::string err_path = (tmp / "stderr").string();
  std::vector<std::string> argv_s{idlc()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(cwd.c_str()) != 0) {
      _exit(127);
    }
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  IdlcRun r;
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  }
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

struct BadCase {
  std::string path;                   // relative to the runfiles root
  std::vector<std::string> expected;  // the "// expect: " lines
};

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> cases;
  fs::path dir = fs::path(runfiles_root()) / "testdata/idl/bad";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".pidl") continue;
    BadCase c;
    c.path = "testdata/idl/bad/" + entry.path().filename().string();
    std::istringstream text(read_file(entry.path()));
    std::string line;
    const std::string prefix = "// expect: ";
    while (std::getline(text, line)) {
      if (line.rfind(prefix, 0) == 0) c.expected.push_back(line.substr(prefix.size()));
    }
    cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(),
            [](const BadCase& a, const BadCase& b) { return a.path < b.path; });
  return cases;
}

TEST(PeersIdlc, EveryBadFileFailsWithItsExpectedErrors) {
  std::vector<BadCase> cases = bad_cases();
  ASSERT_GE(cases.size(), 45u);
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.path);
    ASSERT_FALSE(c.expected.empty()) << "no '// expect: ' line";
    fs::path out = fs::path(env("TEST_TMPDIR")) / "bad_out";
    fs::remove_all(out);
    for (const char* lang : {"cpp", "rpc", "json"}) {
      IdlcRun r = run_idlc({c.path, "-I", ".", "-o", out.string(), "--lang", lang});
      std::string want;
      for (const std::string& e : c.expected) want += e + "\n";
      EXPECT_EQ(r.exit_code, 2);
      EXPECT_EQ(r.err, want);
      EXPECT_EQ(r.out, "");
      EXPECT_FALSE(fs::exists(out)) << "wrote outputs for a bad input";
    }
  }
}

TEST(PeersIdlc, WritesHeaderSourceAndDescriptorUnderTheOutputDirectory) {
  fs::path out = fs::path(env("TEST_TMPDIR")) / "good_out";
  IdlcRun cpp = run_idlc({"testdata/idl/every_type.pidl", "-I", ".", "-o", out.string()});
  EXPECT_EQ(cpp.exit_code, 0) << cpp.err;
  EXPECT_EQ(cpp.err, "");
  std::string header = read_file(out / "testdata/idl/every_type.pidl.h");
  std::string source = read_file(out / "testdata/idl/every_type.pidl.cc");
  EXPECT_NE(header.find("namespace peers::idltest {"), std::string::npos);
  EXPECT_NE(header.find("#include \"testdata/idl/common.pidl.h\""), std::string::npos);
  EXPECT_NE(header.find("enum class Role : std::uint32_t {"), std::string::npos);
  EXPECT_NE(header.find("/// Every built-in type, as a field, in lists, optionals and maps.\n"
                        "struct Everything {"),
            std::string::npos);
  EXPECT_NE(header.find("class Full : public ::peers::Error {"), std::string::npos);
  EXPECT_NE(source.find("#include \"testdata/idl/every_type.pidl.h\""), std::string::npos);
  EXPECT_FALSE(fs::exists(out / "testdata/idl/common.pidl.h")) << "imports are not compiled";

  // Options may come before, between and after the files.
  IdlcRun json = run_idlc({"-I", ".", "testdata/idl/every_type.pidl", "-I", "idlc", "-o",
                           out.string(), "--lang", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(read_file(out / "testdata/idl/every_type.pidl.json"));
  EXPECT_EQ(doc["package"], "peers.idltest");
  EXPECT_EQ(doc["file"], "testdata/idl/every_type.pidl");
  EXPECT_EQ(doc["imports"], nlohmann::json::array({"testdata/idl/common.pidl"}));
}

TEST(PeersIdlc, WritesRpcStubsBesideTheTypes) {
  fs::path out = fs::path(env("TEST_TMPDIR")) / "rpc_out";
  IdlcRun r = run_idlc({"testdata/idl/rpc_stub.pidl", "testdata/idl/common.pidl", "-I", ".", "-o",
                        out.string(), "--lang", "rpc"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::string header = read_file(out / "testdata/idl/rpc_stub.pidl.rpc.h");
  std::string source = read_file(out / "testdata/idl/rpc_stub.pidl.rpc.cc");
  EXPECT_NE(header.find("#include \"testdata/idl/rpc_stub.pidl.h\""), std::string::npos);
  EXPECT_NE(header.find("class ExerciserClient {"), std::string::npos);
  EXPECT_NE(header.find("class ExerciserServer : public ::peers::rpc::Service {"),
            std::string::npos);
  EXPECT_NE(source.find("#include \"testdata/idl/rpc_stub.pidl.rpc.h\""), std::string::npos);
  // A file without interfaces still gets both files.
  EXPECT_NE(read_file(out / "testdata/idl/common.pidl.rpc.h").find("declares no interfaces"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(out / "testdata/idl/common.pidl.rpc.cc"));
  EXPECT_FALSE(fs::exists(out / "testdata/idl/rpc_stub.pidl.h")) << "rpc writes only stubs";
}

TEST(PeersIdlc, CompilesSeveralFilesAndEachOnlyOnce) {
  fs::path out = fs::path(env("TEST_TMPDIR")) / "several_out";
  IdlcRun r = run_idlc({"testdata/idl/version_old.pidl", "./testdata/idl/version_new.pidl",
                        "testdata/idl/version_old.pidl", "-o", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out / "testdata/idl/version_old.pidl.h"));
  EXPECT_TRUE(fs::exists(out / "testdata/idl/version_new.pidl.cc"));
}

TEST(PeersIdlc, ImportsResolveBesideTheFileAndAbsoluteRootsBelowAnIncludeDir) {
  fs::path root = fs::path(env("TEST_TMPDIR")) / "tree";
  fs::create_directories(root / "proto/sub");
  std::ofstream(root / "proto/a.pidl") << "package t.a;\nimport \"sub/b.pidl\";\n"
                                          "struct A { 1: b.B b; }\n";
  std::ofstream(root / "proto/sub/b.pidl") << "package t.b;\nstruct B { 1: u32 x; }\n";
  fs::path out = root / "out";
  IdlcRun r = run_idlc({(root / "proto/a.pidl").string(), "-I", root.string(), "-o", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string header = read_file(out / "proto/a.pidl.h");
  EXPECT_NE(header.find("#include \"proto/sub/b.pidl.h\""), std::string::npos) << header;
  EXPECT_NE(header.find("::t::b::B b;"), std::string::npos) << header;

  IdlcRun outside = run_idlc(
      {(root / "proto/a.pidl").string(), "-I", (root / "out").string(), "-o", out.string()});
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_NE(outside.err.find("must be below the current directory or an include directory"),
            std::string::npos);
}

TEST(PeersIdlc, MissingFileIsAUsageError) {
  IdlcRun r = run_idlc({"testdata/idl/no_such.pidl"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "testdata/idl/no_such.pidl: error: cannot read the file: no such file\n");
}

TEST(PeersIdlc, BadFlagsAreUsageErrors) {
  EXPECT_EQ(run_idlc({"testdata/idl/common.pidl", "--lang", "rust"}).exit_code, 2);
  EXPECT_EQ(run_idlc({}).exit_code, 2);
}

TEST(PeersIdlc, HelpAndVersion) {
  IdlcRun help = run_idlc({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--lang"), std::string::npos);
  EXPECT_NE(help.out.find("Example:"), std::string::npos);
  IdlcRun version = run_idlc({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("peers-idlc"), std::string::npos);
}

}  // namespace
