#include "idlc/loader.h"

#include <gtest/gtest.h>

namespace peers::idl {
namespace {

std::vector<std::string> messages(const Diagnostics& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags.sorted()) out.push_back(d.str());
  return out;
}

TEST(Loader, ReadsImportsOnceEachBeforeTheirImporters) {
  MemoryReader files({
      {"proto/a.pidl", "package a;\nimport \"proto/c.pidl\";\nimport \"b.pidl\";\n"},
      {"proto/b.pidl", "package b;\nimport \"c.pidl\";\n"},
      {"proto/c.pidl", "package c;\n"},
  });
  Diagnostics diags;
  Program p = load({"proto/a.pidl", "./proto/b.pidl"}, {}, files, diags);
  ASSERT_FALSE(diags.has_errors()) << messages(diags)[0];
  ASSERT_EQ(p.files.size(), 3u);
  EXPECT_EQ(p.files[0]->path, "proto/c.pidl");
  EXPECT_EQ(p.files[1]->path, "proto/b.pidl");
  EXPECT_EQ(p.files[2]->path, "proto/a.pidl");
  ASSERT_EQ(p.roots.size(), 2u);
  EXPECT_EQ(p.roots[0]->path, "proto/a.pidl");
  EXPECT_EQ(p.roots[1]->path, "proto/b.pidl");
  // Both spellings of c.pidl found the same file.
  EXPECT_EQ(p.files[2]->imports[0].file, p.files[0].get());
  EXPECT_EQ(p.files[1]->imports[0].file, p.files[0].get());
  EXPECT_EQ(p.files[0]->include_path, "proto/c.pidl");
}

TEST(Loader, BesideTheImporterComesBeforeIncludeDirectories) {
  MemoryReader files({
      {"src/a.pidl", "package a;\nimport \"x.pidl\";\n"},
      {"src/x.pidl", "package near;\n"},
      {"inc/x.pidl", "package far;\n"},
      {"inc/y.pidl", "package y;\n"},
      {"src/b.pidl", "package b;\nimport \"y.pidl\";\n"},
  });
  Diagnostics diags;
  Program p = load({"src/a.pidl", "src/b.pidl"}, {"inc"}, files, diags);
  ASSERT_FALSE(diags.has_errors()) << messages(diags)[0];
  EXPECT_EQ(p.roots[0]->imports[0].file->package, "near");
  EXPECT_EQ(p.roots[0]->imports[0].file->include_path, "src/x.pidl");
  const File* y = p.roots[1]->imports[0].file;
  EXPECT_EQ(y->path, "inc/y.pidl");
  EXPECT_EQ(y->include_path, "y.pidl");  // the path below its include directory
}

TEST(Loader, MissingImport) {
  MemoryReader files({{"a.pidl", "package a;\nimport \"nope.pidl\";\n"}});
  Diagnostics diags;
  load({"a.pidl"}, {"i1", "i2"}, files, diags);
  EXPECT_EQ(messages(diags), (std::vector<std::string>{
                                 "a.pidl:2:8: error: cannot find import \"nope.pidl\" (searched "
                                 "., i1, i2)"}));
}

TEST(Loader, ImportCycles) {
  MemoryReader files({
      {"a.pidl", "package a;\nimport \"b.pidl\";\n"},
      {"b.pidl", "package b;\nimport \"c.pidl\";\n"},
      {"c.pidl", "package c;\nimport \"a.pidl\";\n"},
      {"self.pidl", "package s;\nimport \"self.pidl\";\n"},
  });
  Diagnostics diags;
  load({"a.pidl", "self.pidl"}, {}, files, diags);
  EXPECT_EQ(messages(diags),
            (std::vector<std::string>{
                "c.pidl:2:8: error: import cycle: a.pidl -> b.pidl -> c.pidl -> a.pidl",
                "self.pidl:2:8: error: import cycle: self.pidl -> self.pidl",
            }));
}

TEST(Loader, ImportProblems) {
  MemoryReader files({
      {"a.pidl",
       "package a;\nimport \"b.pidl\";\nimport \"./b.pidl\";\nimport \"/abs.pidl\";\n"
       "import \"\";\n"},
      {"b.pidl", "package b;\n"},
  });
  Diagnostics diags;
  load({"a.pidl"}, {}, files, diags);
  EXPECT_EQ(messages(diags),
            (std::vector<std::string>{
                "a.pidl:3:8: error: b.pidl is already imported at 2:8",
                "a.pidl:4:8: error: import \"/abs.pidl\" is absolute; imports are relative to the "
                "importing file or an include directory",
                "a.pidl:5:8: error: the import path is empty",
            }));
}

TEST(Loader, UnreadableRootAndSyntaxErrorsInImports) {
  MemoryReader files({
      {"a.pidl", "package a;\nimport \"b.pidl\";\n"},
      {"b.pidl", "package b;\nstruct {\n"},
  });
  Diagnostics diags;
  Program p = load({"missing.pidl", "a.pidl"}, {}, files, diags);
  EXPECT_EQ(messages(diags), (std::vector<std::string>{
                                 "missing.pidl: error: cannot read the file: no such file",
                                 "b.pidl:2:8: error: expected a name for the struct, found '{'",
                             }));
  EXPECT_EQ(p.roots.size(), 1u);
}

TEST(Loader, NormalizesPaths) {
  EXPECT_EQ(normalize_path("./a//b/../c.pidl"), "a/c.pidl");
  EXPECT_EQ(normalize_path("."), ".");
  EXPECT_EQ(normalize_path("dir/"), "dir");
}

}  // namespace
}  // namespace peers::idl
