// Expression language: lexer, recursive-descent parser to a small AST, and an evaluator that
// works on sparse matrices internally (embedded local operators are very sparse) and hands out
// dense matrices at the end.
#include "qheat/operators/expression.hpp"

#include <Eigen/SparseCore>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <sstream>

namespace qheat {

namespace {

using spm = Eigen::SparseMatrix<cplx>;

// ---------------------------------------------------------------------------------------------
// Names

const std::vector<std::string>& scalar_functions() {
  static const std::vector<std::string> names = {"sqrt", "exp",  "log", "sin",  "cos",  "tan", "cosh",
                                                 "sinh", "tanh", "abs", "conj", "real", "imag"};
  return names;
}

const std::vector<std::string>& site_functions() {
  static const std::vector<std::string> names = {"sx", "sy", "sz",   "sp", "sm", "Sx",  "Sy", "Sz", "Sp",
                                                 "Sm", "a",  "adag", "ad", "n",  "num", "x",  "id"};
  return names;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool is_site_function(const std::string& name) { return contains(site_functions(), name); }
bool is_scalar_function(const std::string& name) { return contains(scalar_functions(), name); }

std::string kind_name(SubsystemKind k) {
  switch (k) {
    case SubsystemKind::qubit:
      return "qubit";
    case SubsystemKind::spin:
      return "spin";
    case SubsystemKind::boson:
      return "boson";
    case SubsystemKind::level:
      return "level system";
  }
  return "subsystem";
}

std::string article(const std::string& word) {
  return (!word.empty() && std::string("aeiou").find(word[0]) != std::string::npos) ? "an " : "a ";
}

// The kinds of subsystem on which a site function exists, e.g. "a qubit or spin site".
std::string required_kinds(const std::string& fn) {
  const std::vector<Subsystem> probes = {make_qubit("p"), make_spin("p", 1.0), make_boson("p", 1),
                                         make_level("p", 3)};
  std::vector<std::string> kinds;
  for (const auto& p : probes) {
    cmat dummy;
    if (local_operator(p, fn, dummy)) kinds.push_back(kind_name(p.kind));
  }
  if (kinds.size() == probes.size()) return "any site";
  std::string out;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) out += (i + 1 == kinds.size()) ? " or " : ", ";
    out += kinds[i];
  }
  return article(out) + out + " site";
}

std::string format_number(double x) {
  std::ostringstream os;
  os.precision(12);
  os << x;
  return os.str();
}

std::string format_complex(cplx z) {
  if (z.imag() == 0.0) return format_number(z.real());
  std::string im = format_number(std::abs(z.imag()));
  return "(" + format_number(z.real()) + (z.imag() < 0 ? " - " : " + ") + im + "i)";
}

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok {
  number,
  ident,
  plus,
  minus,
  star,
  slash,
  caret,
  lparen,
  rparen,
  comma,
  lbracket,
  rbracket,
  lbrace,
  rbrace,
  end
};

struct Token {
  Tok kind = Tok::end;
  std::size_t pos = 0;  // 0-based offset
  std::size_t len = 0;
  std::string text;
  double number = 0.0;
};

[[noreturn]] void fail(std::size_t pos, const std::string& message) {
  throw ExpressionError(message + " at column " + std::to_string(pos + 1), pos + 1);
}

// An error about the expression as a whole (no column).
[[noreturn]] void fail_whole(const std::string& message) { throw ExpressionError(message, 0); }

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) {
    static const char* hex = "0123456789abcdef";
    return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
  }
  return std::string("'") + c + "'";
}

std::vector<Token> lex(const std::string& s) {
  std::vector<Token> out;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    Token t;
    t.pos = i;
    if (digit(c) || (c == '.' && i + 1 < n && digit(s[i + 1]))) {
      std::size_t j = i;
      while (j < n && digit(s[j])) ++j;
      if (j < n && s[j] == '.') {
        ++j;
        while (j < n && digit(s[j])) ++j;
      }
      if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        std::size_t k = j + 1;
        if (k < n && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < n && digit(s[k])) {
          while (k < n && digit(s[k])) ++k;
          j = k;
        } else {
          fail(i, "malformed number '" + s.substr(i, k - i) + "'");
        }
      }
      t.kind = Tok::number;
      t.text = s.substr(i, j - i);
      const auto res = std::from_chars(s.data() + i, s.data() + j, t.number);
      if (res.ec == std::errc::result_out_of_range || !std::isfinite(t.number))
        fail(i, "number '" + t.text + "' is out of range");
      if (res.ec != std::errc() || res.ptr != s.data() + j) fail(i, "malformed number '" + t.text + "'");
      if (j < n && ident_start(s[j]))
        fail(j, "unexpected name after the number '" + t.text + "' (write " + t.text + "*" +
                    std::string(1, s[j]) + "... for a product)");
      t.len = j - i;
      i = j;
      out.push_back(std::move(t));
      continue;
    }
    if (ident_start(c)) {
      std::size_t j = i;
      while (j < n && ident_char(s[j])) ++j;
      t.kind = Tok::ident;
      t.text = s.substr(i, j - i);
      t.len = j - i;
      i = j;
      out.push_back(std::move(t));
      continue;
    }
    t.len = 1;
    switch (c) {
      case '+':
        t.kind = Tok::plus;
        break;
      case '-':
        t.kind = Tok::minus;
        break;
      case '*':
        if (i + 1 < n && s[i + 1] == '*') {
          t.kind = Tok::caret;
          t.len = 2;
        } else {
          t.kind = Tok::star;
        }
        break;
      case '/':
        t.kind = Tok::slash;
        break;
      case '^':
        t.kind = Tok::caret;
        break;
      case '(':
        t.kind = Tok::lparen;
        break;
      case ')':
        t.kind = Tok::rparen;
        break;
      case ',':
        t.kind = Tok::comma;
        break;
      case '[':
        t.kind = Tok::lbracket;
        break;
      case ']':
        t.kind = Tok::rbracket;
        break;
      case '{':
        t.kind = Tok::lbrace;
        break;
      case '}':
        t.kind = Tok::rbrace;
        break;
      default:
        fail(i, "unexpected character " + describe_char(c));
    }
    t.text = s.substr(i, t.len);
    i += t.len;
    out.push_back(std::move(t));
  }
  Token end;
  end.kind = Tok::end;
  end.pos = n;
  out.push_back(end);
  return out;
}

// ---------------------------------------------------------------------------------------------
// AST

enum class NK { number, name, index, neg, add, mul, pow, scalar_fn, site_op, proj, dag, comm, sum };

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct SitePart {
  std::string literal;  // used when expr is null
  NodePtr expr;         // a {expr} part
};

struct Node {
  NK kind = NK::number;
  std::size_t pos = 0;
  double number = 0.0;
  std::string name;            // name / index / function / sum variable
  std::vector<NodePtr> kids;   // operands
  std::vector<char> ops;       // add: '+'/'-' per kid; mul: '*'/'/' per kid
  std::vector<SitePart> site;  // site pattern of site_op / proj
  std::size_t site_pos = 0;
};

NodePtr make_node(NK k, std::size_t pos) {
  auto n = std::make_unique<Node>();
  n->kind = k;
  n->pos = pos;
  return n;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  NodePtr parse_all() {
    NodePtr e = parse_expr();
    const Token& tok = peek();
    if (tok.kind != Tok::end) unexpected(tok, "");
    return e;
  }

 private:
  std::vector<Token> t_;
  std::size_t p_ = 0;
  int depth_ = 0;

  struct DepthGuard {
    Parser& p;
    DepthGuard(Parser& parser, std::size_t pos) : p(parser) {
      if (++p.depth_ > kMaxExpressionDepth)
        fail(pos,
             "expression nests too deeply (more than " + std::to_string(kMaxExpressionDepth) + " levels)");
    }
    ~DepthGuard() { --p.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
  };

  const Token& peek() const { return t_[p_]; }
  const Token& next() {
    const Token& tok = t_[p_];
    if (tok.kind != Tok::end) ++p_;
    return tok;
  }
  bool accept(Tok k) {
    if (peek().kind == k) {
      next();
      return true;
    }
    return false;
  }

  [[noreturn]] static void unexpected(const Token& tok, const std::string& expected) {
    if (tok.kind == Tok::end)
      fail(tok.pos, "unexpected end of expression" + (expected.empty() ? "" : ", expected " + expected));
    std::string what = "'" + tok.text + "'";
    if (expected.empty() && (tok.kind == Tok::ident || tok.kind == Tok::number || tok.kind == Tok::lparen))
      fail(tok.pos, "expected an operator (+ - * / ^) or the end before " + what);
    fail(tok.pos, "unexpected " + what + (expected.empty() ? "" : ", expected " + expected));
  }

  void expect(Tok k, const std::string& what) {
    if (!accept(k)) unexpected(peek(), what);
  }

  NodePtr parse_expr() {
    DepthGuard guard(*this, peek().pos);
    const std::size_t pos = peek().pos;
    NodePtr first = parse_term();
    if (peek().kind != Tok::plus && peek().kind != Tok::minus) return first;
    NodePtr sum = make_node(NK::add, pos);
    sum->kids.push_back(std::move(first));
    sum->ops.push_back('+');
    while (peek().kind == Tok::plus || peek().kind == Tok::minus) {
      const char op = next().kind == Tok::plus ? '+' : '-';
      sum->kids.push_back(parse_term());
      sum->ops.push_back(op);
    }
    return sum;
  }

  NodePtr parse_term() {
    const std::size_t pos = peek().pos;
    NodePtr first = parse_unary();
    if (peek().kind != Tok::star && peek().kind != Tok::slash) return first;
    NodePtr prod = make_node(NK::mul, pos);
    prod->kids.push_back(std::move(first));
    prod->ops.push_back('*');
    while (peek().kind == Tok::star || peek().kind == Tok::slash) {
      const Token& op = next();
      prod->ops.push_back(op.kind == Tok::star ? '*' : '/');
      prod->kids.push_back(parse_unary());
    }
    return prod;
  }

  NodePtr parse_unary() {
    if (peek().kind == Tok::minus || peek().kind == Tok::plus) {
      const Token& op = next();
      DepthGuard guard(*this, op.pos);
      NodePtr operand = parse_unary();
      if (op.kind == Tok::plus) return operand;
      NodePtr neg = make_node(NK::neg, op.pos);
      neg->kids.push_back(std::move(operand));
      return neg;
    }
    return parse_power();
  }

  NodePtr parse_power() {
    NodePtr base = parse_postfix();
    if (peek().kind != Tok::caret) return base;
    const Token& op = next();
    DepthGuard guard(*this, op.pos);
    NodePtr pw = make_node(NK::pow, op.pos);
    pw->kids.push_back(std::move(base));
    pw->kids.push_back(parse_unary());  // right associative; 2^-1 allowed
    return pw;
  }

  NodePtr parse_postfix() {
    NodePtr prim = parse_primary();
    if (peek().kind == Tok::lbracket) {
      const Token& br = next();
      if (prim->kind != NK::name) fail(br.pos, "only an array parameter can be indexed with [ ]");
      NodePtr idx = make_node(NK::index, prim->pos);
      idx->name = prim->name;
      idx->kids.push_back(parse_expr());
      expect(Tok::rbracket, "']'");
      if (peek().kind == Tok::lbracket) fail(peek().pos, "arrays have one index");
      return idx;
    }
    return prim;
  }

  NodePtr parse_primary() {
    const Token& tok = peek();
    switch (tok.kind) {
      case Tok::number: {
        next();
        NodePtr n = make_node(NK::number, tok.pos);
        n->number = tok.number;
        return n;
      }
      case Tok::lparen: {
        next();
        NodePtr e = parse_expr();
        expect(Tok::rparen, "')'");
        return e;
      }
      case Tok::ident: {
        next();
        if (peek().kind == Tok::lparen) return parse_call(tok);
        NodePtr n = make_node(NK::name, tok.pos);
        n->name = tok.text;
        return n;
      }
      default:
        unexpected(tok, "a number, a name or '('");
    }
  }

  // Site name: identifier followed by adjacent {expr} parts and identifier/number pieces.
  void parse_site(Node& node, const std::string& fn) {
    const Token& first = peek();
    if (first.kind != Tok::ident) unexpected(first, "a site name as the first argument of " + fn);
    next();
    node.site_pos = first.pos;
    SitePart lit;
    lit.literal = first.text;
    node.site.push_back(std::move(lit));
    std::size_t end = first.pos + first.len;
    while (true) {
      const Token& tok = peek();
      if (tok.pos != end) break;
      if (tok.kind == Tok::lbrace) {
        next();
        SitePart part;
        part.expr = parse_expr();
        const Token& close = peek();
        expect(Tok::rbrace, "'}' closing the site-name part");
        end = close.pos + close.len;
        node.site.push_back(std::move(part));
      } else if (tok.kind == Tok::ident || tok.kind == Tok::number) {
        next();
        SitePart part;
        part.literal = tok.text;
        node.site.push_back(std::move(part));
        end = tok.pos + tok.len;
      } else {
        break;
      }
    }
  }

  void close_call(const std::string& fn, const std::string& arity) {
    if (peek().kind == Tok::comma) fail(peek().pos, fn + " takes " + arity);
    expect(Tok::rparen, "')' closing " + fn + "(");
  }

  NodePtr parse_call(const Token& fn_tok) {
    const std::string& fn = fn_tok.text;
    next();  // '('
    DepthGuard guard(*this, fn_tok.pos);
    if (fn == "sum") {
      NodePtr n = make_node(NK::sum, fn_tok.pos);
      const Token& var = peek();
      if (var.kind != Tok::ident) unexpected(var, "a loop variable name as the first argument of sum");
      if (is_reserved_name(var.text) || is_expression_function(var.text))
        fail(var.pos, "'" + var.text + "' is reserved and cannot be a loop variable (use k, j, ...)");
      next();
      n->name = var.text;
      expect(Tok::comma, "',' after the loop variable of sum(k, lo, hi, expr)");
      n->kids.push_back(parse_expr());
      expect(Tok::comma, "',' after the lower bound of sum(k, lo, hi, expr)");
      n->kids.push_back(parse_expr());
      expect(Tok::comma, "',' after the upper bound of sum(k, lo, hi, expr)");
      n->kids.push_back(parse_expr());
      close_call("sum", "four arguments: sum(k, lo, hi, expr)");
      return n;
    }
    if (fn == "proj") {
      NodePtr n = make_node(NK::proj, fn_tok.pos);
      n->name = fn;
      parse_site(*n, "proj");
      expect(Tok::comma, "',' in proj(site, k, l)");
      n->kids.push_back(parse_expr());
      expect(Tok::comma, "',' in proj(site, k, l)");
      n->kids.push_back(parse_expr());
      close_call("proj", "three arguments: proj(site, k, l)");
      return n;
    }
    if (is_site_function(fn)) {
      NodePtr n = make_node(NK::site_op, fn_tok.pos);
      n->name = fn;
      parse_site(*n, fn);
      close_call(fn, "one site argument, e.g. " + fn + "(q1)");
      return n;
    }
    if (fn == "comm") {
      NodePtr n = make_node(NK::comm, fn_tok.pos);
      n->kids.push_back(parse_expr());
      expect(Tok::comma, "',' in comm(A, B)");
      n->kids.push_back(parse_expr());
      close_call("comm", "two arguments: comm(A, B)");
      return n;
    }
    if (fn == "dag" || is_scalar_function(fn)) {
      NodePtr n = make_node(fn == "dag" ? NK::dag : NK::scalar_fn, fn_tok.pos);
      n->name = fn;
      n->kids.push_back(parse_expr());
      close_call(fn, "one argument");
      return n;
    }
    std::vector<std::string> all = scalar_functions();
    for (const auto& s : site_functions()) all.push_back(s);
    for (const char* s : {"sum", "proj", "dag", "comm"}) all.emplace_back(s);
    const std::string hint = closest_name(fn, all);
    fail(fn_tok.pos, "unknown function '" + fn + "'" +
                         (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
  }
};

// ---------------------------------------------------------------------------------------------
// Evaluation

struct IValue {
  bool is_op = false;
  cplx s{0.0, 0.0};
  spm m;
};

IValue scalar_value(cplx z) {
  IValue v;
  v.s = z;
  return v;
}

// Eigen 3.4's SparseMatrix has no move operations; swap instead of copying.
IValue op_value(spm m) {
  IValue v;
  v.is_op = true;
  v.m.swap(m);
  return v;
}

bool finite(cplx z) { return std::isfinite(z.real()) && std::isfinite(z.imag()); }

// Evaluation frames active on this thread, over all nested evaluations (a parameter resolved
// while an expression is evaluated starts another evaluation), so that chains of deeply nested
// definitions cannot exhaust the stack.
thread_local int t_eval_frames = 0;

struct FrameGuard {
  explicit FrameGuard(std::size_t pos) {
    if (++t_eval_frames > kMaxEvaluationFrames) {
      --t_eval_frames;
      fail(pos, "expressions nest too deeply (more than " + std::to_string(kMaxEvaluationFrames) +
                    " levels, counting names defined from other names)");
    }
  }
  ~FrameGuard() { --t_eval_frames; }
  FrameGuard(const FrameGuard&) = delete;
  FrameGuard& operator=(const FrameGuard&) = delete;
};

class Evaluator {
 public:
  explicit Evaluator(const EvalContext& ctx) : ctx_(ctx) {
    if (ctx.space != nullptr && !ctx.space->subsystems().empty()) {
      space_ = ctx.space;
      dim_ = ctx.space->dim();
    }
  }

  IValue eval(const Node& n) {
    const FrameGuard guard(n.pos);
    return eval_node(n);
  }

  // The recursion runs through eval -> eval_node -> one small handler per node kind; the handlers
  // and the matrix arithmetic are kept out of line so that each level of nesting costs little stack.
  IValue eval_node(const Node& n) {
    switch (n.kind) {
      case NK::number:
        return scalar_value(cplx(n.number, 0.0));
      case NK::name:
        return eval_name(n);
      case NK::index:
        return eval_index(n);
      case NK::neg:
        return eval_neg(n);
      case NK::add:
        return eval_add(n);
      case NK::mul:
        return eval_mul(n);
      case NK::pow:
        return eval_pow(n);
      case NK::scalar_fn:
        return eval_scalar_fn(n);
      case NK::site_op:
        return site_operator(n);
      case NK::proj:
        return projector(n);
      case NK::dag:
        return eval_dag(n);
      case NK::comm:
        return eval_comm(n);
      case NK::sum:
        return sum(n);
    }
    fail(n.pos, "internal error: unknown expression node");
  }

  [[gnu::noinline]] IValue eval_neg(const Node& n) {
    IValue v = eval(*n.kids[0]);
    negate(v);
    return v;
  }

  [[gnu::noinline]] IValue eval_add(const Node& n) {
    IValue acc = eval(*n.kids[0]);
    for (std::size_t k = 1; k < n.kids.size(); ++k) {
      IValue rhs = eval(*n.kids[k]);
      add_to(acc, rhs, n.ops[k] == '-');
    }
    return acc;
  }

  [[gnu::noinline]] IValue eval_mul(const Node& n) {
    IValue acc = eval(*n.kids[0]);
    for (std::size_t k = 1; k < n.kids.size(); ++k) {
      IValue rhs = eval(*n.kids[k]);
      if (n.ops[k] == '*')
        multiply_into(acc, rhs);
      else
        divide_into(acc, rhs, n.kids[k]->pos);
    }
    return acc;
  }

  [[gnu::noinline]] IValue eval_pow(const Node& n) {
    IValue base = eval(*n.kids[0]);
    IValue expo = eval(*n.kids[1]);
    power_into(base, expo, n);
    return base;
  }

  [[gnu::noinline]] IValue eval_scalar_fn(const Node& n) {
    IValue arg = eval(*n.kids[0]);
    return scalar_function(n, arg);
  }

  [[gnu::noinline]] IValue eval_dag(const Node& n) {
    IValue v = eval(*n.kids[0]);
    adjoint_in_place(v);
    return v;
  }

  [[gnu::noinline]] IValue eval_comm(const Node& n) {
    IValue a = eval(*n.kids[0]);
    IValue b = eval(*n.kids[1]);
    return commutator(a, b);
  }

  [[gnu::noinline]] static void negate(IValue& v) {
    if (v.is_op)
      v.m = -v.m;
    else
      v.s = cplx(0.0, 0.0) - v.s;  // keeps +0 imaginary parts (sqrt(-4) = 2i)
  }

  [[gnu::noinline]] static void adjoint_in_place(IValue& v) {
    if (v.is_op)
      v.m = spm(v.m.adjoint());
    else
      v.s = std::conj(v.s);
  }

  [[gnu::noinline]] static IValue commutator(const IValue& a, const IValue& b) {
    if (!a.is_op || !b.is_op) return scalar_value(0.0);
    spm c = (a.m * b.m).pruned();
    spm d = (b.m * a.m).pruned();
    return op_value(c - d);
  }

  cplx as_scalar(const IValue& v, std::size_t pos, const std::string& what) const {
    if (v.is_op) fail(pos, what + " must be a scalar, not an operator");
    return v.s;
  }

  long long as_integer(const IValue& v, std::size_t pos, const std::string& what) const {
    const cplx z = as_scalar(v, pos, what);
    const double re = z.real();
    if (std::abs(z.imag()) > 1e-12 * std::max(1.0, std::abs(re)) || !std::isfinite(re) ||
        std::abs(re - std::round(re)) > 1e-9 || std::abs(re) > 1e9)
      fail(pos, what + " must be an integer, got " + format_complex(z));
    return static_cast<long long>(std::llround(re));
  }

 private:
  const EvalContext& ctx_;
  const Space* space_ = nullptr;
  int dim_ = 0;
  std::vector<std::pair<std::string, long long>> loops_;
  long long total_terms_ = 0;

  spm identity() const {
    spm id(dim_, dim_);
    id.setIdentity();
    return id;
  }

  const long long* variable(const std::string& name) const {
    for (auto it = loops_.rbegin(); it != loops_.rend(); ++it)
      if (it->first == name) return &it->second;
    const auto it = ctx_.variables.find(name);
    return it == ctx_.variables.end() ? nullptr : &it->second;
  }

  const Binding* binding(const std::string& name) const {
    const auto it = ctx_.symbols.find(name);
    if (it != ctx_.symbols.end()) return &it->second;
    if (ctx_.resolve) return ctx_.resolve(name);
    return nullptr;
  }

  std::vector<std::string> candidate_names() const {
    std::vector<std::string> out = ctx_.known_names;
    for (const auto& [k, v] : ctx_.symbols) out.push_back(k);
    for (const auto& [k, v] : ctx_.variables) out.push_back(k);
    for (const auto& [k, v] : loops_) out.push_back(k);
    out.emplace_back("pi");
    return out;
  }

  [[noreturn]] void unknown_name(const std::string& name, std::size_t pos) const {
    if (space_ != nullptr && space_->has(name))
      fail(pos, "'" + name + "' is a site, not a value; use it inside an operator, e.g. " +
                    (space_->subsystem(name).kind == SubsystemKind::boson ? "n(" : "sz(") + name + ")");
    if (is_site_function(name) || name == "proj")
      fail(pos, "'" + name + "' is an operator function; write " + name + "(site)");
    if (is_expression_function(name)) fail(pos, "'" + name + "' is a function; write " + name + "(...)");
    const std::string hint = closest_name(name, candidate_names());
    fail(pos, "unknown parameter '" + name + "'" +
                  (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
  }

  IValue from_binding(const Binding& b, const std::string& name, std::size_t pos) const {
    if (const auto* d = std::get_if<double>(&b.value)) return scalar_value(cplx(*d, 0.0));
    if (std::holds_alternative<std::vector<double>>(b.value))
      fail(pos, "'" + name + "' is an array parameter; index it as " + name + "[k]");
    const cmat& m = std::get<cmat>(b.value);
    if (space_ == nullptr)
      fail(pos, "operator '" + name + "' cannot be used here: this expression must be a scalar");
    if (m.rows() != dim_ || m.cols() != dim_)
      fail(pos, "operator '" + name + "' has dimension " + std::to_string(m.rows()) + ", expected " +
                    std::to_string(dim_));
    if (ctx_.sites_used != nullptr)
      for (int s : b.sites) ctx_.sites_used->insert(s);
    return op_value(m.sparseView());
  }

  [[gnu::noinline]] IValue eval_name(const Node& n) const {
    if (const long long* v = variable(n.name)) return scalar_value(cplx(static_cast<double>(*v), 0.0));
    if (n.name == "i") return scalar_value(cplx(0.0, 1.0));
    if (n.name == "pi") return scalar_value(cplx(std::numbers::pi, 0.0));
    if (const Binding* b = binding(n.name)) return from_binding(*b, n.name, n.pos);
    unknown_name(n.name, n.pos);
  }

  [[gnu::noinline]] IValue eval_index(const Node& n) {
    if (variable(n.name) != nullptr || is_reserved_name(n.name))
      fail(n.pos, "'" + n.name + "' is not an array and cannot be indexed");
    const Binding* b = binding(n.name);
    if (b == nullptr) unknown_name(n.name, n.pos);
    const auto* arr = std::get_if<std::vector<double>>(&b->value);
    if (arr == nullptr) fail(n.pos, "'" + n.name + "' is not an array and cannot be indexed");
    const long long k = as_integer(eval(*n.kids[0]), n.kids[0]->pos, "the index of " + n.name);
    const auto size = static_cast<long long>(arr->size());
    if (k < 1 || k > size)
      fail(n.kids[0]->pos, "index " + std::to_string(k) + " is out of range for '" + n.name + "' (" +
                               std::to_string(size) + " entries, indices 1.." + std::to_string(size) + ")");
    return scalar_value(cplx((*arr)[static_cast<std::size_t>(k - 1)], 0.0));
  }

  // acc = acc +- b.
  [[gnu::noinline]] void add_to(IValue& acc, IValue& b, bool subtract) const {
    if (!acc.is_op && !b.is_op) {
      acc.s = subtract ? acc.s - b.s : acc.s + b.s;
      return;
    }
    if (subtract) negate(b);
    if (acc.is_op && b.is_op) {
      acc.m += b.m;
    } else if (acc.is_op) {
      acc.m += b.s * identity();
    } else {
      spm sum_m = acc.s * identity() + b.m;
      acc.is_op = true;
      acc.m.swap(sum_m);
    }
  }

  [[gnu::noinline]] static void multiply_into(IValue& acc, const IValue& b) {
    if (!acc.is_op && !b.is_op) {
      acc.s *= b.s;
    } else if (acc.is_op && b.is_op) {
      spm prod = (acc.m * b.m).pruned();
      acc.m.swap(prod);
    } else if (acc.is_op) {
      acc.m *= b.s;
    } else {
      spm prod = acc.s * b.m;
      acc.is_op = true;
      acc.m.swap(prod);
    }
  }

  [[gnu::noinline]] static void divide_into(IValue& acc, const IValue& b, std::size_t pos) {
    if (b.is_op) fail(pos, "cannot divide by an operator");
    if (b.s == cplx(0.0, 0.0)) fail(pos, "division by zero");
    if (acc.is_op)
      acc.m /= b.s;
    else
      acc.s /= b.s;
  }

  static cplx checked(cplx z, std::size_t pos, const std::string& what) {
    if (!finite(z)) fail(pos, what + " is not finite (overflow or outside its domain)");
    return z;
  }

  // base = base ^ expo.
  [[gnu::noinline]] void power_into(IValue& base, const IValue& expo, const Node& n) const {
    if (expo.is_op) fail(n.kids[1]->pos, "the exponent must be a scalar, not an operator");
    if (!base.is_op) {
      const cplx b = base.s, e = expo.s;
      if (b == cplx(0.0, 0.0) && e.real() < 0.0) fail(n.pos, "0 raised to a negative power");
      cplx r;
      if (b.imag() == 0.0 && e.imag() == 0.0 && (b.real() >= 0.0 || e.real() == std::round(e.real())))
        r = cplx(std::pow(b.real(), e.real()), 0.0);
      else
        r = std::pow(b, e);
      base.s = checked(r, n.pos, "the power");
      return;
    }
    const cplx e = expo.s;
    if (e.imag() != 0.0 || e.real() < 0.0 || e.real() != std::round(e.real()) || e.real() > 1e6)
      fail(n.kids[1]->pos,
           "an operator can only be raised to an integer power 0..1000000, got " + format_complex(e));
    auto k = static_cast<long long>(e.real());
    spm result = identity();
    spm b;
    b.swap(base.m);
    while (k > 0) {
      if (k & 1) result = (result * b).pruned();
      k >>= 1;
      if (k > 0) b = (b * b).pruned();
    }
    base.m.swap(result);
  }

  [[gnu::noinline]] IValue scalar_function(const Node& n, const IValue& arg) const {
    if (arg.is_op) fail(n.pos, n.name + " needs a scalar argument, not an operator");
    const cplx z = arg.s;
    const bool real = z.imag() == 0.0;
    const double x = z.real();
    const std::string& f = n.name;
    cplx r;
    if (f == "sqrt")
      r = (real && x >= 0.0) ? cplx(std::sqrt(x), 0.0) : std::sqrt(z);
    else if (f == "exp")
      r = real ? cplx(std::exp(x), 0.0) : std::exp(z);
    else if (f == "log") {
      if (z == cplx(0.0, 0.0)) fail(n.pos, "log(0) is not finite");
      r = (real && x > 0.0) ? cplx(std::log(x), 0.0) : std::log(z);
    } else if (f == "sin")
      r = real ? cplx(std::sin(x), 0.0) : std::sin(z);
    else if (f == "cos")
      r = real ? cplx(std::cos(x), 0.0) : std::cos(z);
    else if (f == "tan")
      r = real ? cplx(std::tan(x), 0.0) : std::tan(z);
    else if (f == "cosh")
      r = real ? cplx(std::cosh(x), 0.0) : std::cosh(z);
    else if (f == "sinh")
      r = real ? cplx(std::sinh(x), 0.0) : std::sinh(z);
    else if (f == "tanh")
      r = real ? cplx(std::tanh(x), 0.0) : std::tanh(z);
    else if (f == "abs")
      r = cplx(std::abs(z), 0.0);
    else if (f == "conj")
      r = std::conj(z);
    else if (f == "real")
      r = cplx(x, 0.0);
    else if (f == "imag")
      r = cplx(z.imag(), 0.0);
    else
      fail(n.pos, "unknown function '" + f + "'");
    return scalar_value(checked(r, n.pos, f + "(" + format_complex(z) + ")"));
  }

  // Resolves a site pattern such as q{k+1} to a subsystem index.
  int site_index(const Node& n) {
    std::string name;
    for (const auto& part : n.site) {
      if (part.expr)
        name += std::to_string(as_integer(eval(*part.expr), part.expr->pos, "a site-name part {...}"));
      else
        name += part.literal;
    }
    if (space_ == nullptr)
      fail(n.pos, "operator " + n.name + "(" + name +
                      ") cannot be used here: this expression must be a scalar (no sites)");
    if (!space_->has(name)) {
      std::vector<std::string> names;
      std::string list;
      for (const auto& s : space_->subsystems()) {
        names.push_back(s.name);
        if (names.size() <= 12) list += (list.empty() ? "" : ", ") + s.name;
      }
      if (names.size() > 12) list += ", ...";
      const std::string hint = closest_name(name, names);
      fail(n.site_pos, "unknown site '" + name + "'" +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; sites: " + list);
    }
    const int idx = space_->index(name);
    if (ctx_.sites_used != nullptr) ctx_.sites_used->insert(idx);
    return idx;
  }

  // I (x) local (x) I with the first subsystem most significant.
  spm embed(int site, const cmat& local) const {
    const auto& subs = space_->subsystems();
    long long left = 1, right = 1;
    for (int k = 0; k < site; ++k) left *= subs[static_cast<std::size_t>(k)].dim;
    for (std::size_t k = static_cast<std::size_t>(site) + 1; k < subs.size(); ++k) right *= subs[k].dim;
    const long long d = subs[static_cast<std::size_t>(site)].dim;
    // Nonzeros of each local column, rows ascending.
    std::vector<std::vector<std::pair<long long, cplx>>> columns(static_cast<std::size_t>(d));
    std::size_t nnz = 0;
    for (long long c = 0; c < d; ++c)
      for (long long r = 0; r < d; ++r) {
        const cplx v = local(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
        if (v != cplx(0.0, 0.0)) {
          columns[static_cast<std::size_t>(c)].emplace_back(r, v);
          ++nnz;
        }
      }
    // Columns of I_left (x) local (x) I_right come in increasing order as (l, c, rr) runs
    // lexicographically, so the matrix is filled in storage order.
    spm m(dim_, dim_);
    m.reserve(static_cast<Eigen::Index>(static_cast<std::size_t>(left * right) * nnz));
    for (long long l = 0; l < left; ++l)
      for (long long c = 0; c < d; ++c)
        for (long long rr = 0; rr < right; ++rr) {
          const auto col = static_cast<Eigen::Index>((l * d + c) * right + rr);
          m.startVec(col);
          for (const auto& [r, v] : columns[static_cast<std::size_t>(c)])
            m.insertBack(static_cast<Eigen::Index>((l * d + r) * right + rr), col) = v;
        }
    m.finalize();
    return m;
  }

  [[gnu::noinline]] IValue site_operator(const Node& n) {
    const int idx = site_index(n);
    const Subsystem& sub = space_->subsystems()[static_cast<std::size_t>(idx)];
    cmat local;
    if (!local_operator(sub, n.name, local))
      fail(n.site_pos, "operator " + n.name + " needs " + required_kinds(n.name) + "; '" + sub.name +
                           "' is " + article(kind_name(sub.kind)) + kind_name(sub.kind) +
                           " (offers: " + local_operator_names(sub) + ")");
    return op_value(embed(idx, local));
  }

  [[gnu::noinline]] IValue projector(const Node& n) {
    const int idx = site_index(n);
    const Subsystem& sub = space_->subsystems()[static_cast<std::size_t>(idx)];
    const long long k = as_integer(eval(*n.kids[0]), n.kids[0]->pos, "proj index k");
    const long long l = as_integer(eval(*n.kids[1]), n.kids[1]->pos, "proj index l");
    for (const auto& [val, node] : {std::pair{k, n.kids[0].get()}, std::pair{l, n.kids[1].get()}})
      if (val < 0 || val >= sub.dim)
        fail(node->pos, "proj index " + std::to_string(val) + " is out of range for '" + sub.name +
                            "' (dimension " + std::to_string(sub.dim) + ", indices 0.." +
                            std::to_string(sub.dim - 1) + ")");
    return op_value(embed(idx, local_ops::projector(sub.dim, static_cast<int>(k), static_cast<int>(l))));
  }

  [[gnu::noinline]] IValue sum(const Node& n) {
    const long long lo = as_integer(eval(*n.kids[0]), n.kids[0]->pos, "the lower bound of sum");
    const long long hi = as_integer(eval(*n.kids[1]), n.kids[1]->pos, "the upper bound of sum");
    IValue acc = scalar_value(0.0);
    if (hi < lo) return acc;
    const long long count = hi - lo + 1;
    if (count > kMaxSumTerms)
      fail(n.pos, "sum over " + std::to_string(count) + " terms exceeds the limit of " +
                      std::to_string(kMaxSumTerms));
    total_terms_ += count;
    if (total_terms_ > kMaxTotalSumTerms)
      fail(n.pos, "nested sums evaluate more than " + std::to_string(kMaxTotalSumTerms) + " terms");
    loops_.emplace_back(n.name, lo);
    for (long long k = lo; k <= hi; ++k) {
      loops_.back().second = k;
      IValue term = eval(*n.kids[2]);
      add_to(acc, term, false);
    }
    loops_.pop_back();
    return acc;
  }
};

void check_finite_result(const IValue& v) {
  if (!v.is_op) {
    if (!finite(v.s)) fail_whole("the value is not finite");
    return;
  }
  for (int k = 0; k < v.m.outerSize(); ++k)
    for (spm::InnerIterator it(v.m, k); it; ++it)
      if (!finite(it.value())) fail_whole("the operator has entries that are not finite");
}

void check_dense_size(int dim) {
  if (dim > kMaxDenseDimension)
    fail_whole("operator of dimension " + std::to_string(dim) + " is larger than the limit " +
               std::to_string(kMaxDenseDimension) + " for dense matrices");
}

IValue evaluate_internal(const std::string& expr, const EvalContext& ctx) {
  Parser parser(lex(expr));
  const NodePtr root = parser.parse_all();
  Evaluator ev(ctx);
  IValue v = ev.eval(*root);
  check_finite_result(v);
  return v;
}

}  // namespace

bool is_expression_function(const std::string& name) {
  return is_scalar_function(name) || is_site_function(name) || name == "sum" || name == "proj" ||
         name == "dag" || name == "comm";
}

bool is_reserved_name(const std::string& name) { return name == "i" || name == "pi"; }

bool is_identifier(const std::string& name) {
  if (name.empty() || !ident_start(name[0])) return false;
  return std::all_of(name.begin(), name.end(), ident_char);
}

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  if (name.size() > 64) return {};
  std::string best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  const std::size_t limit = name.size() <= 3 ? 1 : 2;
  for (const auto& c : candidates) {
    if (c == name || c.size() > 64) continue;
    // Edit distance with transpositions (optimal string alignment).
    const std::size_t w = c.size() + 1;
    std::vector<std::size_t> dist((name.size() + 1) * w);
    auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return dist[i * w + j]; };
    for (std::size_t i = 0; i <= name.size(); ++i) at(i, 0) = i;
    for (std::size_t j = 0; j <= c.size(); ++j) at(0, j) = j;
    for (std::size_t i = 1; i <= name.size(); ++i)
      for (std::size_t j = 1; j <= c.size(); ++j) {
        const std::size_t cost = name[i - 1] == c[j - 1] ? 0 : 1;
        at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
        if (i > 1 && j > 1 && name[i - 1] == c[j - 2] && name[i - 2] == c[j - 1])
          at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
      }
    const std::size_t d = at(name.size(), c.size());
    if (d <= limit && d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Value evaluate(const std::string& expr, const EvalContext& ctx) {
  const IValue v = evaluate_internal(expr, ctx);
  if (!v.is_op) return Value(v.s);
  check_dense_size(static_cast<int>(v.m.rows()));
  return Value(cmat(v.m));
}

double evaluate_real(const std::string& expr, const EvalContext& ctx) {
  const Value v = evaluate(expr, ctx);
  if (v.is_operator()) fail_whole("expected a number but the expression is an operator");
  const cplx z = v.scalar();
  if (std::abs(z.imag()) > 1e-12 * std::max(1.0, std::abs(z.real())))
    fail_whole("expected a real number but the value is complex, " + format_complex(z));
  return z.real();
}

long long evaluate_integer(const std::string& expr, const EvalContext& ctx, long long lo, long long hi) {
  const double x = evaluate_real(expr, ctx);
  if (std::abs(x - std::round(x)) > 1e-9 || std::abs(x) > 9e15)
    fail_whole("expected an integer, got " + format_number(x));
  const auto k = static_cast<long long>(std::llround(x));
  if (k < lo || k > hi)
    fail_whole("expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
               std::to_string(k));
  return k;
}

cmat evaluate_operator(const std::string& expr, const EvalContext& ctx) {
  if (ctx.space == nullptr || ctx.space->subsystems().empty())
    fail_whole("an operator expression needs a space with at least one site");
  const IValue v = evaluate_internal(expr, ctx);
  const int d = ctx.space->dim();
  check_dense_size(d);
  if (v.is_op) return cmat(v.m);
  return v.s * cmat::Identity(d, d);
}

}  // namespace qheat
