package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Flag is one setting of a command: its flag, its environment variable
// and its default. Every command of wharf reads its settings through
// Parse, in one order of precedence: the flag, then the environment
// variable, then the config file, then the default.
type Flag struct {
	Name, Usage, Def string
	// EnvName is the environment variable; empty is WHARF_ and the name
	// in capitals, dashes as underscores (--data-dir: WHARF_DATA_DIR).
	EnvName string
	// Bool lets the flag be given bare (--name), meaning true.
	Bool bool
	// Multi lets the flag be given more than once; the values are joined
	// with commas, as the environment variable and a YAML list in the
	// file give them.
	Multi bool
	// FileKey is the config file's key; empty is the name.
	FileKey string
}

// Env is the flag's environment variable.
func (f Flag) Env() string {
	if f.EnvName != "" {
		return f.EnvName
	}
	return "WHARF_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
}

// Command is what Parse reads for one command.
type Command struct {
	// Name is the command, as usage shows it ("wharf serve").
	Name string
	// Header is the usage text above the flags; empty is a one-line
	// "Usage: NAME [flags]".
	Header string
	// Flags are the command's settings, each a flag.
	Flags []Flag
	// Known are settings the environment and the config file may give
	// besides Flags, without a flag of this command.
	Known []Flag
	// Extra, if set, adds flags of the command's own, which Parse leaves
	// to the command.
	Extra func(*flag.FlagSet)
	// FileOnly, if set, admits config file keys that are no flag (such
	// as secrets, which a command line would show to every user); their
	// values come back in Values under the key, dashes for underscores.
	FileOnly func(key string) bool
}

// Values are the settings Parse read, by name: every one of Flags and
// Known, with its default when nothing set it.
type Values map[string]string

// multiValue is a string flag that may be given more than once.
type multiValue struct{ v *string }

func (m multiValue) String() string {
	if m.v == nil {
		return ""
	}
	return *m.v
}

func (m multiValue) Set(s string) error {
	if *m.v != "" {
		s = *m.v + "," + s
	}
	*m.v = s
	return nil
}

// boolValue is a string flag that may be given bare, meaning "true".
type boolValue struct{ v *string }

func (b boolValue) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolValue) Set(s string) error { *b.v = s; return nil }
func (b boolValue) IsBoolFlag() bool   { return true }

// Parse reads a command's settings: the flags in args first, then each
// setting's environment variable, then the YAML file of --config (or
// WHARF_CONFIG), whose keys are the settings' names (dashes or
// underscores), then the defaults. It answers flag.ErrHelp after printing
// the usage for --help, and refuses a config file's unknown or repeated
// key. The arguments after the flags are returned as they are.
func Parse(cmd Command, args []string, getenv func(string) string, out io.Writer) (Values, []string, error) {
	fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	fs.SetOutput(out)
	if cmd.Extra != nil {
		cmd.Extra(fs)
	}
	given := map[string]*string{}
	for _, f := range cmd.Flags {
		given[f.Name] = new(string)
		switch {
		case f.Bool:
			fs.Var(boolValue{given[f.Name]}, f.Name, f.Usage)
		case f.Multi:
			fs.Var(multiValue{given[f.Name]}, f.Name, f.Usage)
		default:
			fs.StringVar(given[f.Name], f.Name, "", f.Usage)
		}
	}
	configFile := fs.String("config", "", "")
	fs.Usage = func() {
		Usage(out, cmd, func(visit func(*flag.Flag)) {
			fs.VisitAll(func(f *flag.Flag) {
				if _, ours := given[f.Name]; !ours && f.Name != "config" {
					visit(f)
				}
			})
		})
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	all := append(append([]Flag{}, cmd.Flags...), cmd.Known...)
	file := map[string]string{}
	cf := *configFile
	if cf == "" {
		cf = getenv("WHARF_CONFIG")
	}
	if cf != "" {
		var err error
		if file, err = readFile(cf, all, cmd.FileOnly); err != nil {
			return nil, nil, err
		}
	}
	vals := Values{}
	for k, v := range file {
		if cmd.FileOnly != nil && cmd.FileOnly(k) {
			vals[k] = v
		}
	}
	for _, f := range all {
		if _, done := vals[f.Name]; done {
			continue // a setting both a flag and known: the flag's
		}
		v := f.Def
		if fv, ok := file[f.fileKey()]; ok {
			v = fv
		}
		if ev := getenv(f.Env()); ev != "" {
			v = ev
		}
		if explicit[f.Name] {
			v = *given[f.Name]
		}
		vals[f.Name] = v
	}
	return vals, fs.Args(), nil
}

func (f Flag) fileKey() string {
	if f.FileKey != "" {
		return f.FileKey
	}
	return f.Name
}

// readFile reads a YAML config file of the settings in known (and the
// keys fileOnly admits), by key.
func readFile(name string, known []Flag, fileOnly func(string) bool) (map[string]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	raw := map[string]any{}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %w", name, err)
	}
	ok := map[string]bool{}
	for _, f := range known {
		ok[f.fileKey()] = true
	}
	file := map[string]string{}
	for k, v := range raw {
		// trusted_proxies and trusted-proxies are one key.
		n := strings.ReplaceAll(k, "_", "-")
		if !ok[n] && (fileOnly == nil || !fileOnly(n)) {
			return nil, fmt.Errorf("config file %s: unknown setting %q", name, k)
		}
		if _, dup := file[n]; dup {
			return nil, fmt.Errorf("config file %s: %q is set twice", name, n)
		}
		switch v := v.(type) {
		case []any: // a list: what a repeated flag gives
			parts := make([]string, len(v))
			for i, e := range v {
				parts[i] = fmt.Sprint(e)
			}
			file[n] = strings.Join(parts, ",")
		default:
			file[n] = fmt.Sprint(v)
		}
	}
	return file, nil
}

// Usage prints a command's usage: its header, then every flag with its
// environment variable and default, then --config, then the command's
// own flags that extra visits.
func Usage(out io.Writer, cmd Command, extra func(visit func(*flag.Flag))) {
	header := cmd.Header
	if header == "" {
		header = "Usage: " + cmd.Name + " [flags]\n"
	}
	fmt.Fprintf(out, "%s\nFlags (each also read from its environment variable):\n", strings.TrimRight(header, "\n")+"\n")
	width := len("config")
	for _, f := range cmd.Flags {
		width = max(width, len(f.Name))
	}
	for _, f := range cmd.Flags {
		def := f.Def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(out, "  --%-*s %s\n  %*s env %s, default %s\n", width, f.Name, f.Usage, width+2, "", f.Env(), def)
	}
	fmt.Fprintf(out, "  --%-*s %s\n  %*s env %s\n", width, "config", "YAML file of settings (keys are the flag names)", width+2, "", "WHARF_CONFIG")
	if extra != nil {
		extra(func(f *flag.Flag) { fmt.Fprintf(out, "  --%-*s %s\n", width, f.Name, f.Usage) })
	}
}
