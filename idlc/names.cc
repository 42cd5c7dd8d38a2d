#include "idlc/names.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace peers::idl {
namespace {

bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool upper_or_digit(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Words joined by single underscores, the first starting with a letter.
bool is_snake(std::string_view s, bool (*letter)(char), bool (*word_char)(char)) {
  if (s.empty() || !letter(s[0])) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i + 1 == s.size() || s[i + 1] == '_') return false;
    } else if (!word_char(s[i])) {
      return false;
    }
  }
  return true;
}

constexpr std::string_view kKeywords[] = {
    "alignas",       "alignof",     "and",
    "and_eq",        "asm",         "auto",
    "bitand",        "bitor",       "bool",
    "break",         "case",        "catch",
    "char",          "char8_t",     "char16_t",
    "char32_t",      "class",       "compl",
    "concept",       "const",       "consteval",
    "constexpr",     "constinit",   "const_cast",
    "continue",      "co_await",    "co_return",
    "co_yield",      "decltype",    "default",
    "delete",        "do",          "double",
    "dynamic_cast",  "else",        "enum",
    "explicit",      "export",      "extern",
    "false",         "float",       "for",
    "friend",        "goto",        "if",
    "inline",        "int",         "long",
    "mutable",       "namespace",   "new",
    "noexcept",      "not",         "not_eq",
    "nullptr",       "operator",    "or",
    "or_eq",         "private",     "protected",
    "public",        "register",    "reinterpret_cast",
    "requires",      "return",      "short",
    "signed",        "sizeof",      "static",
    "static_assert", "static_cast", "struct",
    "switch",        "template",    "this",
    "thread_local",  "throw",       "true",
    "try",           "typedef",     "typeid",
    "typename",      "union",       "unsigned",
    "using",         "virtual",     "void",
    "volatile",      "wchar_t",     "while",
    "xor",           "xor_eq",      "final",
    "override",      "import",      "module",
    "restrict",
};

// Object-like macros of the C library that would replace a member's name.
constexpr std::string_view kLibcMacros[] = {"errno", "stdin", "stdout", "stderr"};

}  // namespace

bool is_lower_snake(std::string_view s) { return is_snake(s, is_lower, lower_or_digit); }
bool is_upper_snake(std::string_view s) { return is_snake(s, is_upper, upper_or_digit); }

bool is_camel(std::string_view s) {
  if (s.empty() || !is_upper(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_upper(c) || is_lower(c) || is_digit(c); });
}

bool is_cpp_keyword(std::string_view s) {
  return std::find(std::begin(kKeywords), std::end(kKeywords), s) != std::end(kKeywords);
}

bool is_cpp_reserved(std::string_view s) {
  return is_cpp_keyword(s) ||
         std::find(std::begin(kLibcMacros), std::end(kLibcMacros), s) != std::end(kLibcMacros);
}

std::string snake_to_camel(std::string_view snake) {
  std::string out;
  bool up = true;
  for (char c : snake) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

std::string enum_constant(std::string_view upper_snake) {
  std::string out = "k";
  bool up = true;
  for (char c : upper_snake) {
    if (c == '_') {
      up = true;
      continue;
    }
    out += up ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    up = false;
  }
  return out;
}

std::string camel_to_words(std::string_view camel) {
  std::string out;
  for (std::size_t i = 0; i < camel.size(); ++i) {
    char c = camel[i];
    if (i > 0 && is_upper(c)) {
      char prev = camel[i - 1];
      bool next_lower = i + 1 < camel.size() && is_lower(camel[i + 1]);
      // A new word starts at "aB", "1B", and at the last capital of "HTTPError".
      if (!is_upper(prev) || next_lower) out += ' ';
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string package_namespace(std::string_view package) {
  std::string out;
  for (char c : package) {
    if (c == '.') {
      out += "::";
    } else {
      out += c;
    }
  }
  return out;
}

std::uint32_t method_id(std::string_view full_name) {
  std::uint32_t h = 2166136261u;
  for (char c : full_name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace peers::idl
