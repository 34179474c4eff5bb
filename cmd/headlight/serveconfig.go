package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// configHelp is the --help paragraph on --config.
const configHelp = `Configuration file: --config FILE (or $HEADLIGHT_CONFIG) reads a YAML
mapping whose keys are the flag names without dashes in front, e.g.

    addr: 127.0.0.1:9000
    model: [stories@v1=a.bin, stories@v2=b.gguf]
    canary: stories=v2:0.1
    max-batch: 4
    max-queue-wait: 10ms

Repeatable flags (model, canary) take a list or one value. A flag on the
command line wins over its variable, which wins over the file, which wins
over the default. An unknown key or a value of the wrong type is an error
naming the key.
`

// repeatable flags take a YAML list in the config file and a comma-separated
// list in their environment variable.
var repeatable = map[string]bool{"model": true, "canary": true}

// applyConfig sets, from the YAML file path, every flag of fs that is not
// set yet (on the command line or by its variable). The key "config" is
// not allowed in the file.
func applyConfig(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config %s: line %d: want a mapping of flag names to values", path, root.Line)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		f := fs.Lookup(key)
		if k.Kind != yaml.ScalarNode || f == nil || key == "config" {
			return fmt.Errorf("config %s: line %d: unknown key %q; valid keys: %s", path, k.Line, key, strings.Join(configKeys(fs), ", "))
		}
		if seen[key] {
			return fmt.Errorf("config %s: line %d: key %q given twice", path, k.Line, key)
		}
		seen[key] = true
		vals, err := configValues(v, repeatable[key])
		if err != nil {
			return fmt.Errorf("config %s: line %d: key %q: %w", path, v.Line, key, err)
		}
		if set[key] {
			continue // the command line or the variable wins
		}
		for _, x := range vals {
			if err := fs.Set(key, x); err != nil {
				return fmt.Errorf("config %s: line %d: key %q: invalid value %q: %w", path, v.Line, key, x, err)
			}
		}
	}
	return nil
}

// configValues are the values of one key: a scalar, or for a repeatable
// flag a list of scalars.
func configValues(v *yaml.Node, list bool) ([]string, error) {
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		return nil, errors.New("no value")
	case v.Kind == yaml.ScalarNode:
		return []string{v.Value}, nil
	case v.Kind == yaml.SequenceNode && list:
		var out []string
		for _, x := range v.Content {
			if x.Kind != yaml.ScalarNode || x.Tag == "!!null" {
				return nil, fmt.Errorf("line %d: want a list of strings", x.Line)
			}
			out = append(out, x.Value)
		}
		return out, nil
	case v.Kind == yaml.SequenceNode:
		return nil, errors.New("want a single value, not a list")
	}
	return nil, errors.New("want a value, not a mapping")
}

// configKeys are the keys a config file may hold: every flag but config.
func configKeys(fs *flag.FlagSet) []string {
	var keys []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" {
			keys = append(keys, f.Name)
		}
	})
	sort.Strings(keys)
	return keys
}
