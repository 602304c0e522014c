// Human output of the client CLI: aligned tables for lists, "key: value" blocks for one object,
// money as "12.34 EUR", times shown as the server gave them, null as "-".
// Pure functions over Boost.JSON values, no I/O; thread-safe. Candidates for a tested module.
#pragma once

#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace gpuaas::cli {

using Row = std::vector<std::string>;

// Columns separated by two spaces, left-aligned, padded to the widest cell; the last column is
// not padded. Every line ends with '\n'. Rows shorter than the header get empty cells.
std::string FormatTable(const Row& header, const std::vector<Row>& rows);

// {"amount": "12.34", "currency": "EUR", ...} -> "12.34 EUR"; null/missing -> "-".
std::string FormatMoney(const boost::json::value& v);

// One cell: strings as given, null -> "-", numbers without exponent noise (7200.0 -> "7200"),
// arrays joined with ",", money objects via FormatMoney, other objects as compact JSON
// ({"h200": 8} -> "h200=8" when every value is a number).
std::string FormatScalar(const boost::json::value& v);

// "key: value" lines, keys aligned. Keys in `order` come first (those present), then the rest
// in the object's order. An empty value shows as "-".
std::string FormatKeyValues(const boost::json::object& o, const std::vector<std::string>& order);

// Field `key` of `o` formatted with FormatScalar ("-" when missing).
std::string Field(const boost::json::object& o, const char* key);

// "2 x h200" (given class), "2 x h200|l40s" (asked classes), "2 x any".
std::string GpuLabel(const boost::json::object& job);

// Seconds as hours with two decimals: 5400 -> "1.50".
std::string FormatHours(double seconds);

}  // namespace gpuaas::cli
