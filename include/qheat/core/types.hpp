// Basic numeric types and the typed error hierarchy shared by every stage of qheat.
#pragma once

#include <Eigen/Dense>
#include <complex>
#include <stdexcept>
#include <string>

namespace qheat {

using cplx = std::complex<double>;
using cmat = Eigen::MatrixXcd;
using cvec = Eigen::VectorXcd;
using rmat = Eigen::MatrixXd;
using rvec = Eigen::VectorXd;

// Error messages quote the input (a --set value, a TOML string); the CLI prints each as one line, so
// control characters are shown escaped (\n, \r, \xNN); tabs stay.
std::string one_line(const std::string& s);
bool has_control_characters(const std::string& s);

// Base of every error qheat throws on bad input. `rule()` names the rule that was broken.
class Error : public std::runtime_error {
public:
  Error(std::string rule, const std::string& message)
      : std::runtime_error(message), rule_(std::move(rule)) {}
  [[nodiscard]] const std::string& rule() const noexcept { return rule_; }

private:
  std::string rule_;
};

// A model (file or programmatic) that breaks a rule; `line()` is 0 when no file line applies.
class ModelError : public Error {
public:
  ModelError(std::string rule, const std::string& message, int line = 0,
             std::string file = {})
      : Error(std::move(rule), format(message, line, file)), line_(line),
        file_(std::move(file)) {}
  [[nodiscard]] int line() const noexcept { return line_; }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }

private:
  static std::string format(const std::string& message, int line, const std::string& file) {
    if (line <= 0) return message;
    return (file.empty() ? std::string("line ") : file + ":") + std::to_string(line) + ": " +
           message;
  }
  int line_;
  std::string file_;
};

// An operator or scalar expression that cannot be parsed or evaluated.
class ExpressionError : public Error {
public:
  ExpressionError(const std::string& message, std::size_t column = 0)
      : Error("expression", message), column_(column) {}
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

private:
  std::size_t column_;
};

// A method asked for something it cannot do (wrong options, unsupported model).
class MethodError : public Error {
public:
  using Error::Error;
};

}  // namespace qheat
