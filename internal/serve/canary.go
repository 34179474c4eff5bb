package serve

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// Canary sends a fraction Weight of the requests for model Model to its
// version Version instead of the stable one (the first listed).
type Canary struct {
	Model   string
	Version string
	Weight  float64 // in [0, 1]
}

// ParseCanary parses the --canary flag's "name=version:weight".
func ParseCanary(spec string) (Canary, error) {
	name, rest, ok := strings.Cut(spec, "=")
	i := strings.LastIndexByte(rest, ':')
	if !ok || name == "" || i <= 0 {
		return Canary{}, fmt.Errorf("canary %q: want name=version:weight (e.g. stories=v2:0.1)", spec)
	}
	w, err := strconv.ParseFloat(rest[i+1:], 64)
	if err != nil || !(w >= 0 && w <= 1) {
		return Canary{}, fmt.Errorf("canary %q: weight %q must be a number in [0, 1]", spec, rest[i+1:])
	}
	return Canary{Model: name, Version: rest[:i], Weight: w}, nil
}

// unversioned is the version label of a model given without one.
const unversioned = "unversioned"

// splitModelID splits "name@version" ("name" alone: version "").
func splitModelID(id string) (name, version string) {
	name, version, _ = strings.Cut(id, "@")
	return name, version
}

// group is every loaded version of one model name.
type group struct {
	name     string
	versions []*worker // in the order given; versions[0] is the stable one
	canary   *worker   // nil: no canary
	weight   float64   // fraction of keys routed to canary
}

// version finds the worker of version v.
func (g *group) version(v string) *worker {
	for _, w := range g.versions {
		if w.version == v {
			return w
		}
	}
	return nil
}

// pick routes a request with key (""= a random key) to the stable version
// or, for a fraction weight of keys, to the canary.
func (g *group) pick(key string) *worker {
	if g.canary == nil {
		return g.versions[0]
	}
	u := rand.Float64()
	if key != "" {
		u = keyFraction(key)
	}
	if u < g.weight {
		return g.canary
	}
	return g.versions[0]
}

// keyFraction maps a request key to [0, 1) by FNV-1a 64: the top 53 bits
// of the hash over 2^53.
func keyFraction(key string) float64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return float64(h.Sum64()>>11) / (1 << 53)
}

// requestKey is the key canary routing hashes: the body's user field, else
// the X-Request-Key header, else "" (random).
func requestKey(r *http.Request, user string) string {
	if user != "" {
		return user
	}
	return r.Header.Get("X-Request-Key")
}

// addGroups builds s.groups from the workers (in s.names order) and the
// canaries of the options.
func (s *Server) addGroups(canaries []Canary) error {
	s.groups = map[string]*group{}
	for _, id := range s.names {
		w := s.workers[id]
		g := s.groups[w.name]
		if g == nil {
			g = &group{name: w.name}
			s.groups[w.name] = g
			s.groupNames = append(s.groupNames, w.name)
		}
		g.versions = append(g.versions, w)
	}
	for _, c := range canaries {
		g := s.groups[c.Model]
		switch {
		case g == nil:
			return fmt.Errorf("serve: canary for model %q, which is not served (serving %v)", c.Model, s.groupNames)
		case !(c.Weight >= 0 && c.Weight <= 1):
			return fmt.Errorf("serve: canary %s=%s: weight %v must be in [0, 1]", c.Model, c.Version, c.Weight)
		case g.canary != nil:
			return fmt.Errorf("serve: model %q has two canaries", c.Model)
		case g.version(c.Version) == nil:
			return fmt.Errorf("serve: canary %s=%s: model %q has no version %q (give it as --model %s@%s=PATH)", c.Model, c.Version, c.Model, c.Version, c.Model, c.Version)
		case g.version(c.Version) == g.versions[0]:
			return fmt.Errorf("serve: canary %s=%s: %q is the stable (first listed) version", c.Model, c.Version, c.Version)
		}
		g.canary, g.weight = g.version(c.Version), c.Weight
	}
	return nil
}

// worker finds the model a request names: "name@version" pins a version;
// "name" (or "", the first model) goes to its stable version or, by key,
// its canary.
func (s *Server) worker(model, key string) (*worker, error) {
	if model == "" {
		if len(s.groupNames) == 0 {
			return nil, badParam("model", "no language model is served (only embedding models: use /v1/embeddings)")
		}
		model = s.groupNames[0]
	}
	if _, enc := s.embedders[model]; enc {
		return nil, badParam("model", "model %s is an embedding model: use /v1/embeddings", model)
	}
	if g, ok := s.groups[model]; ok {
		return g.pick(key), nil
	}
	if name, v := splitModelID(model); v != "" {
		if g, ok := s.groups[name]; ok {
			if w := g.version(v); w != nil {
				return w, nil
			}
		}
	}
	return nil, newError(http.StatusNotFound, "model_not_found", "model %q does not exist (serving %v)", model, s.names)
}
