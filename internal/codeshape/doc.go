// Package codeshape holds the checks of the code's shape that review asks
// for and a compiler does not: its test fails on a non-generated function
// longer than MaxFunctionLines.
package codeshape

// MaxFunctionLines is the longest a non-generated function may be, from
// its func keyword to its closing brace.
const MaxFunctionLines = 80
