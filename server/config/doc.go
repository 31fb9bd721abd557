// Package config reads Wharf's settings from flags, environment variables
// and a config file, in that order of precedence, over built-in defaults.
//
// A Setting is one flag with its WHARF_* environment variable and default;
// ServeSettings are those of `wharf serve` (the blob store's, in
// storage.go, among them) and OpenSettings the few of the commands that
// only open the data directory. Load fills the whole Config whichever
// settings a command takes as flags, so a setting a command has no flag
// for still comes from the environment, the file or its default. The file
// (--config or WHARF_CONFIG) is YAML keyed by the flag names; an unknown
// or repeated key is an error.
//
// Parse is the one loader under Load, and every command reads its flags
// through it: a Command names its Flags (each with its environment
// variable, its default, and whether it may be given bare) and the
// settings it reads without a flag, and Parse answers their values in the
// one order of precedence and prints the one usage format. `wharf
// deploy-hook`, which has no Config, takes its Values as they are.
package config
