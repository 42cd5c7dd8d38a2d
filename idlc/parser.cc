#include "idlc/parser.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "idlc/lexer.h"

namespace peers::idl {
namespace {

bool is_decl_keyword(const Token& t) {
  return t.is_word("enum") || t.is_word("struct") || t.is_word("error") || t.is_word("interface");
}

bool is_top_keyword(const Token& t) {
  return is_decl_keyword(t) || t.is_word("import") || t.is_word("package");
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& path, Diagnostics& diags)
      : toks_(std::move(tokens)), path_(path), diags_(diags) {}

  std::unique_ptr<File> run() {
    file_ = std::make_unique<File>();
    file_->path = path_;
    if (cur().is_word("package")) {
      package();
    } else {
      error(cur(), "missing package declaration: a file starts with 'package <name>;'");
      if (!is_top_keyword(cur())) sync_top(/*quiet=*/true);
    }
    bool seen_decl = false;
    while (cur().kind != TokenKind::kEof) {
      const Token& t = cur();
      if (t.is_word("import")) {
        if (seen_decl) error(t, "imports must come before the declarations");
        import();
      } else if (t.is_word("package")) {
        error(t, file_->package.empty()
                     ? "the package declaration must come first"
                     : "package is already declared at " + to_string(file_->package_loc));
        sync_top();
      } else if (is_decl_keyword(t)) {
        seen_decl = true;
        declaration();
      } else {
        expected("a declaration (enum, struct, error or interface)");
        sync_top();
      }
    }
    return std::move(file_);
  }

 private:
  // --- tokens -------------------------------------------------------------
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(std::size_t k) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  const Token& take() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  Location prev_end() const { return pos_ > 0 ? toks_[pos_ - 1].end : cur().loc; }

  // --- reporting ----------------------------------------------------------
  // Tokens the lexer rejected were reported already.
  void error(const Token& at, std::string message) {
    if (at.kind != TokenKind::kError) diags_.error(path_, at.loc, std::move(message));
  }
  void expected(const std::string& what) {
    error(cur(), "expected " + what + ", found " + describe(cur()));
  }
  bool expect_punct(std::string_view p, const std::string& what) {
    if (cur().is_punct(p)) {
      take();
      return true;
    }
    expected(what);
    return false;
  }
  // A missing ';' at the end of a line is reported where it belongs and then
  // assumed; anything else in its place is an error to recover from.
  bool semicolon(const std::string& after) {
    if (cur().is_punct(";")) {
      take();
      return true;
    }
    if (cur().kind == TokenKind::kError) return false;
    if (pos_ > 0 && cur().loc.line > toks_[pos_ - 1].end.line) {
      diags_.error(path_, prev_end(), "expected ';' after " + after);
      return true;
    }
    expected("';' after " + after);
    return false;
  }

  // --- recovery -----------------------------------------------------------
  // Skips the rest of a member: through the next ';', or up to a '}'.
  void sync_member() {
    while (cur().kind != TokenKind::kEof && !cur().is_punct("}")) {
      if (take().is_punct(";")) return;
    }
  }
  // Skips the rest of a top-level construct: up to the next top-level keyword
  // outside braces, or through a ';' or closing '}' at brace depth zero.
  void sync_top(bool quiet = false) {
    int depth = 0;
    bool first = !quiet;
    while (cur().kind != TokenKind::kEof) {
      const Token& t = cur();
      if (!first && depth == 0 && is_top_keyword(t)) return;
      first = false;
      take();
      if (t.is_punct("{")) {
        ++depth;
      } else if (t.is_punct("}")) {
        if (depth > 0) --depth;
        if (depth == 0) return;
      } else if (t.is_punct(";") && depth == 0) {
        return;
      }
    }
  }

  // --- names --------------------------------------------------------------
  // ident ("." ident)*
  std::optional<std::string> qualified_name(const std::string& what) {
    if (cur().kind != TokenKind::kIdent) {
      expected(what);
      return std::nullopt;
    }
    std::string name = take().text;
    while (cur().is_punct(".")) {
      take();
      if (cur().kind != TokenKind::kIdent) {
        expected("a name after '.'");
        return std::nullopt;
      }
      name += "." + take().text;
    }
    return name;
  }

  // --- top level ----------------------------------------------------------
  void package() {
    const Token& kw = take();
    file_->doc = kw.doc;
    Location loc = cur().loc;
    auto name = qualified_name("a package name");
    if (!name) return sync_top();
    file_->package = *name;
    file_->package_loc = loc;
    if (!semicolon("the package name")) sync_top();
  }

  void import() {
    take();
    if (cur().kind != TokenKind::kString) {
      expected("a quoted file path");
      return sync_top();
    }
    const Token& s = take();
    file_->imports.push_back(Import{s.text, s.loc, nullptr});
    if (!semicolon("import")) sync_top();
  }

  void declaration() {
    const Token& kw = take();
    std::string doc = kw.doc;
    std::unique_ptr<Decl> d;
    std::string what(kw.text);
    if (kw.text == "enum") {
      d = std::make_unique<Enum>();
    } else if (kw.text == "struct") {
      d = std::make_unique<Record>(DeclKind::kStruct);
    } else if (kw.text == "error") {
      d = std::make_unique<Record>(DeclKind::kError);
    } else {
      d = std::make_unique<Interface>();
    }
    if (cur().kind != TokenKind::kIdent) {
      expected("a name for the " + what);
      return sync_top();
    }
    d->name = cur().text;
    d->loc = take().loc;
    d->doc = std::move(doc);
    d->file = file_.get();
    if (!expect_punct("{", "'{' after " + what + " " + d->name)) return sync_top();
    while (cur().kind != TokenKind::kEof && !cur().is_punct("}")) {
      bool ok = false;
      if (Enum* e = as_enum(*d)) {
        ok = enum_value(*e);
      } else if (Record* r = as_record(*d)) {
        ok = record_member(*r);
      } else {
        ok = method(*as_interface(*d));
      }
      if (!ok) sync_member();
    }
    if (!cur().is_punct("}")) {
      expected("'}' at the end of " + what + " " + d->name);
    } else {
      take();
      if (cur().is_punct(";")) take();  // tolerated: "struct A { ... };"
    }
    file_->decls.push_back(std::move(d));
  }

  // --- members ------------------------------------------------------------
  bool enum_value(Enum& e) {
    if (cur().kind != TokenKind::kIdent) {
      expected("an enum value name");
      return false;
    }
    EnumValue v;
    v.doc = cur().doc;
    v.name = cur().text;
    v.loc = take().loc;
    if (!expect_punct("=", "'=' after " + v.name)) return false;
    if (cur().kind != TokenKind::kInt) {
      expected("the number of " + v.name);
      return false;
    }
    v.number = cur().value;
    v.number_loc = take().loc;
    e.values.push_back(v);
    return semicolon("enum value");
  }

  bool record_member(Record& r) {
    if (cur().is_word("reserved") && peek(1).kind == TokenKind::kInt) {
      take();
      while (true) {
        if (cur().kind != TokenKind::kInt) {
          expected("a field number");
          return false;
        }
        r.reserved.push_back(Reserved{cur().value, cur().loc});
        take();
        if (!cur().is_punct(",")) break;
        take();
      }
      return semicolon("reserved field numbers");
    }
    if (cur().kind != TokenKind::kInt) {
      expected("a field number");
      return false;
    }
    Field f;
    f.doc = cur().doc;
    f.number = cur().value;
    f.number_loc = take().loc;
    if (!expect_punct(":", "':' after field number " + std::to_string(f.number))) return false;
    auto type = parse_type(0);
    if (!type) return false;
    f.type = std::move(*type);
    if (cur().kind != TokenKind::kIdent) {
      expected("a field name");
      return false;
    }
    f.name = cur().text;
    f.name_loc = take().loc;
    r.fields.push_back(std::move(f));
    return semicolon("field " + r.fields.back().name);
  }

  bool method(Interface& it) {
    Method m;
    m.doc = cur().doc;
    if (cur().is_word("oneway") && peek(1).kind == TokenKind::kIdent) {
      m.oneway = true;
      take();
    }
    if (cur().kind != TokenKind::kIdent) {
      expected("a method name");
      return false;
    }
    m.name = cur().text;
    m.loc = take().loc;
    if (!expect_punct("(", "'(' after method name " + m.name)) return false;
    if (cur().is_punct(")")) {
      expected("the request type of " + m.name + " (a struct, or void)");
      return false;
    }
    auto request = parse_type(0);
    if (!request) return false;
    m.request = std::move(*request);
    if (!expect_punct(")", "')' after the request type")) return false;
    if (cur().is_punct("->")) {
      m.arrow_loc = take().loc;
      auto response = parse_type(0);
      if (!response) return false;
      m.response = std::move(*response);
    }
    if (cur().is_word("data")) {
      m.data = true;
      m.data_loc = take().loc;
    }
    if (cur().is_word("throws")) {
      m.has_throws = true;
      m.throws_loc = take().loc;
      while (true) {
        Location loc = cur().loc;
        auto name = qualified_name("an error name");
        if (!name) return false;
        m.throws.push_back(NameRef{*name, loc, nullptr});
        if (!cur().is_punct(",")) break;
        take();
      }
    }
    it.methods.push_back(std::move(m));
    return semicolon("method " + it.methods.back().name);
  }

  // --- types --------------------------------------------------------------
  std::optional<TypeExpr> parse_type(int depth) {
    if (depth >= kMaxTypeNesting) {
      error(cur(),
            "type is nested too deeply (more than " + std::to_string(kMaxTypeNesting) + " levels)");
      return std::nullopt;
    }
    if (cur().kind != TokenKind::kIdent) {
      expected("a type");
      return std::nullopt;
    }
    TypeExpr t;
    t.loc = cur().loc;
    auto name = qualified_name("a type");
    if (!name) return std::nullopt;
    auto builtin = name->find('.') == std::string::npos ? builtin_kind(*name) : std::nullopt;
    if (!builtin) {
      t.kind = TypeKind::kNamed;
      t.name = std::move(*name);
      return t;
    }
    t.kind = *builtin;
    switch (t.kind) {
      case TypeKind::kList:
      case TypeKind::kOptional: {
        if (!expect_punct("<", "'<' after " + *name)) return std::nullopt;
        auto inner = parse_type(depth + 1);
        if (!inner) return std::nullopt;
        t.args.push_back(std::move(*inner));
        if (!expect_punct(">", "'>' to close " + *name + "<")) return std::nullopt;
        break;
      }
      case TypeKind::kMap: {
        if (!expect_punct("<", "'<' after map")) return std::nullopt;
        auto key = parse_type(depth + 1);
        if (!key) return std::nullopt;
        if (!expect_punct(",", "',' between the key and value types of map")) return std::nullopt;
        auto value = parse_type(depth + 1);
        if (!value) return std::nullopt;
        t.args.push_back(std::move(*key));
        t.args.push_back(std::move(*value));
        if (!expect_punct(">", "'>' to close map<")) return std::nullopt;
        break;
      }
      case TypeKind::kBytes:
        if (cur().is_punct("<")) {
          take();
          if (cur().kind != TokenKind::kInt) {
            expected("the size of bytes<N>");
            return std::nullopt;
          }
          t.kind = TypeKind::kFixedBytes;
          t.size = take().value;
          if (!expect_punct(">", "'>' to close bytes<")) return std::nullopt;
        }
        break;
      default:
        break;
    }
    return t;
  }

  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  const std::string& path_;
  Diagnostics& diags_;
  std::unique_ptr<File> file_;
};

}  // namespace

std::unique_ptr<File> parse(std::string_view text, const std::string& path, Diagnostics& diags) {
  return Parser(lex(text, path, diags), path, diags).run();
}

}  // namespace peers::idl
