#include "idlc/lexer.h"

#include <cstdio>

namespace peers::idl {
namespace {

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file, Diagnostics& diags)
      : text_(text), file_(file), diags_(diags) {}

  std::vector<Token> run() {
    while (true) {
      skip_space_and_comments();
      if (pos_ >= text_.size()) break;
      lex_token();
    }
    Token eof;
    eof.kind = TokenKind::kEof;
    eof.loc = here();
    eof.end = eof.loc;
    eof.doc = std::move(doc_);
    tokens_.push_back(std::move(eof));
    return std::move(tokens_);
  }

 private:
  Location here() const { return Location{line_, static_cast<int>(pos_ - line_start_) + 1}; }
  char at(std::size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  void skip_space_and_comments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
        advance();
      } else if (c == '/' && at(pos_ + 1) == '/') {
        comment();
      } else {
        break;
      }
    }
  }

  void comment() {
    // A doc comment is "///" (not "////") with nothing but blanks before it.
    bool first_on_line = true;
    for (std::size_t i = line_start_; i < pos_; ++i) {
      if (text_[i] != ' ' && text_[i] != '\t') first_on_line = false;
    }
    bool doc = first_on_line && at(pos_ + 2) == '/' && at(pos_ + 3) != '/';
    std::size_t start = pos_ + (doc ? 3 : 2);
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    if (doc) {
      std::string_view line = text_.substr(start, end - start);
      if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
      }
      if (!doc_.empty()) doc_ += '\n';
      doc_ += line;
    }
    pos_ = end;  // the newline itself is skipped as space
  }

  Token& push(TokenKind kind, std::string text, Location loc) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.loc = loc;
    t.end = here();
    t.doc = std::move(doc_);
    doc_.clear();
    tokens_.push_back(std::move(t));
    return tokens_.back();
  }

  void error_token(Location loc, std::string message) {
    diags_.error(file_, loc, std::move(message));
    push(TokenKind::kError, "", loc);
  }

  void lex_token() {
    Location loc = here();
    char c = text_[pos_];
    if (is_ident_start(c)) {
      std::size_t start = pos_;
      while (pos_ < text_.size() && is_ident_char(text_[pos_])) advance();
      push(TokenKind::kIdent, std::string(text_.substr(start, pos_ - start)), loc);
    } else if (is_digit(c)) {
      number(loc);
    } else if (c == '"') {
      string(loc);
    } else if (c == '-' && at(pos_ + 1) == '>') {
      advance();
      advance();
      push(TokenKind::kPunct, "->", loc);
    } else if (std::string_view("{}()<>;:,=.").find(c) != std::string_view::npos) {
      advance();
      push(TokenKind::kPunct, std::string(1, c), loc);
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      // One report for a whole run of non-ASCII bytes (a UTF-8 character).
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
      while (pos_ < text_.size() && static_cast<unsigned char>(text_[pos_]) >= 0x80) advance();
      error_token(loc, std::string("unexpected byte ") + buf +
                           " (non-ASCII text is only allowed in comments and strings)");
    } else if (c >= 0x21 && c <= 0x7e) {
      advance();
      error_token(loc, std::string("unexpected character '") + c + "'");
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
      advance();
      error_token(loc, std::string("unexpected byte ") + buf);
    }
  }

  void number(Location loc) {
    std::size_t start = pos_;
    while (pos_ < text_.size() && is_ident_char(text_[pos_])) advance();
    std::string digits(text_.substr(start, pos_ - start));
    std::uint64_t value = 0;
    bool hex = digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
    unsigned base = hex ? 16 : 10;
    bool overflow = false;
    for (std::size_t i = hex ? 2 : 0; i < digits.size(); ++i) {
      int d = hex ? hex_digit(digits[i]) : (is_digit(digits[i]) ? digits[i] - '0' : -1);
      if (d < 0) {
        error_token(loc, "malformed number '" + digits + "'");
        return;
      }
      if (value > (UINT64_MAX - static_cast<unsigned>(d)) / base) overflow = true;
      value = value * base + static_cast<unsigned>(d);
    }
    if (overflow) {
      error_token(loc, "number " + digits + " is too large");
      return;
    }
    push(TokenKind::kInt, digits, loc).value = value;
  }

  void string(Location loc) {
    advance();  // the opening quote
    std::size_t start = pos_;
    bool escape = false;
    while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') {
      if (text_[pos_] == '\\') escape = true;
      advance();
    }
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      error_token(loc, "unterminated string");
      return;
    }
    std::string contents(text_.substr(start, pos_ - start));
    advance();  // the closing quote
    if (escape) {
      error_token(loc, "escape sequences are not supported in strings");
      return;
    }
    push(TokenKind::kString, std::move(contents), loc);
  }

  std::string_view text_;
  const std::string& file_;
  Diagnostics& diags_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  int line_ = 1;
  std::string doc_;
  std::vector<Token> tokens_;
};

}  // namespace

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kIdent:
    case TokenKind::kPunct:
      return "'" + t.text + "'";
    case TokenKind::kInt:
      return "number " + t.text;
    case TokenKind::kString:
      return "string \"" + t.text + "\"";
    case TokenKind::kError:
      return "an invalid token";
    case TokenKind::kEof:
      return "end of file";
  }
  return "a token";
}

std::vector<Token> lex(std::string_view text, const std::string& file, Diagnostics& diags) {
  return Lexer(text, file, diags).run();
}

}  // namespace peers::idl
