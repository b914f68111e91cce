// Package keyauth is a Traefik middleware plugin (interpreted by Yaegi, standard library only)
// that gives each client of the AI server its own API keys.
//
// A request carries its key as `Authorization: Bearer <key>` (OpenAI SDKs) or as Basic
// `<user>:<key>` (the Ollama client's auth=), user `api` or the client's own name. The plugin
// hashes the key with SHA-256 and looks the hash up in its configuration, so the file Traefik
// reads never holds a key. A known key loses its Authorization header (Ollama never sees it) and
// gains the client's name in ClientHeader, which the routers after this middleware match on
// (scopes, rate limit, allow list) and the access log keeps.
//
// With Deny set, the middleware answers 403 to everything it sees: it sits on a low-priority
// catch-all router so that a known client outside its scopes never reaches Ollama.
package keyauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Client is one named client and the SHA-256 hex digests of its keys. Two keys overlap while
// a key is being rotated.
type Client struct {
	Name string `json:"name,omitempty"`
	// Keys are lower-case SHA-256 hex digests. An unsalted fast hash is safe here only because
	// every key is at least 32 random characters: there is no dictionary to try, and a salt or
	// a slow hash would only add cost to every request (Traefik's bcrypt basicAuth costs
	// ~200 ms per request at cost 11).
	Keys []string `json:"keys,omitempty"`
	// Users are more basic-auth user names the client may send beside `api` and its name (the
	// app servers' configurable user name).
	Users []string `json:"users,omitempty"`
}

// Config is the middleware's dynamic configuration.
type Config struct {
	Clients      []Client `json:"clients,omitempty"`
	ClientHeader string   `json:"clientHeader,omitempty"`
	Realm        string   `json:"realm,omitempty"`
	Deny         bool     `json:"deny,omitempty"`
}

// CreateConfig returns the defaults Traefik decodes the middleware's options onto.
func CreateConfig() *Config {
	return &Config{ClientHeader: "X-Tradia-Client", Realm: "tradia-ai"}
}

// KeyAuth is the middleware.
type KeyAuth struct {
	next         http.Handler
	clientHeader string
	challenge    []string
	deny         bool
	// owners maps a key's hex digest to its client's name.
	owners map[string]string
	// users maps a client's name to the extra basic-auth user names it may send.
	users map[string]map[string]bool
}

// New checks the configuration and builds the middleware. Traefik calls it again on every
// configuration reload, so a removed client's keys stop working with the next request.
func New(_ context.Context, next http.Handler, config *Config, _ string) (http.Handler, error) {
	if config.ClientHeader == "" {
		return nil, fmt.Errorf("clientHeader must not be empty")
	}
	if strings.ContainsAny(config.Realm, "\"\\\r\n") {
		return nil, fmt.Errorf("realm must not hold quotes, backslashes or line breaks")
	}
	owners := map[string]string{}
	users := map[string]map[string]bool{}
	names := map[string]bool{}
	for _, client := range config.Clients {
		if !validName(client.Name) {
			return nil, fmt.Errorf("client name %q: use letters, digits, '.', '_' and '-'", client.Name)
		}
		if names[client.Name] {
			return nil, fmt.Errorf("client %q is listed twice", client.Name)
		}
		names[client.Name] = true
		users[client.Name] = map[string]bool{}
		for _, user := range client.Users {
			if !validName(user) {
				return nil, fmt.Errorf("client %q: user name %q: use letters, digits, '.', '_' and '-'", client.Name, user)
			}
			users[client.Name][user] = true
		}
		for _, digest := range client.Keys {
			if !validDigest(digest) {
				return nil, fmt.Errorf("client %q: a key must be given as its SHA-256 in lower-case hex", client.Name)
			}
			if owner, taken := owners[digest]; taken {
				return nil, fmt.Errorf("clients %q and %q share a key", owner, client.Name)
			}
			owners[digest] = client.Name
		}
	}
	if !config.Deny && len(owners) == 0 {
		// An empty list would lock everybody out; more likely a templating mistake.
		return nil, fmt.Errorf("no client keys configured")
	}
	return &KeyAuth{
		next:         next,
		clientHeader: http.CanonicalHeaderKey(config.ClientHeader),
		challenge: []string{
			fmt.Sprintf("Basic realm=%q", config.Realm),
			fmt.Sprintf("Bearer realm=%q", config.Realm),
		},
		deny:   config.Deny,
		owners: owners,
		users:  users,
	}, nil
}

func (a *KeyAuth) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if a.deny {
		writeError(rw, http.StatusForbidden, "this client may not use "+req.URL.Path)
		return
	}
	// The routers and the access log trust this header: whatever the caller sent goes, on a
	// refused request too (the access log would show a forged name).
	req.Header.Del(a.clientHeader)
	client, ok := a.authenticate(req.Header.Get("Authorization"))
	if !ok {
		rw.Header()["Www-Authenticate"] = a.challenge
		writeError(rw, http.StatusUnauthorized, "unauthorized")
		return
	}
	req.Header.Del("Authorization")
	req.Header.Set(a.clientHeader, client)
	a.next.ServeHTTP(rw, req)
}

// authenticate returns the name of the client that owns the key in an Authorization value.
func (a *KeyAuth) authenticate(authorization string) (string, bool) {
	scheme, credentials, found := strings.Cut(authorization, " ")
	if !found {
		return "", false
	}
	credentials = strings.TrimSpace(credentials)
	user, key := "", credentials
	switch strings.ToLower(scheme) {
	case "bearer":
	case "basic":
		decoded, err := base64.StdEncoding.DecodeString(credentials)
		if err != nil {
			return "", false
		}
		user, key, found = strings.Cut(string(decoded), ":")
		if !found {
			return "", false
		}
	default:
		return "", false
	}
	if key == "" {
		return "", false
	}
	// A map lookup on the digest does not leak the key through timing: the attacker would
	// learn digest prefixes, which do not bring them closer to a preimage.
	digest := sha256.Sum256([]byte(key))
	client, ok := a.owners[hex.EncodeToString(digest[:])]
	if !ok {
		return "", false
	}
	// Basic auth's user is `api` (one shared name, as before), the key owner's own name, or one
	// of the owner's extra user names.
	if user != "" && user != "api" && user != client && !a.users[client][user] {
		return "", false
	}
	return client, true
}

// writeError answers as Ollama's own errors look: {"error": "..."}.
func writeError(rw http.ResponseWriter, status int, message string) {
	body, err := json.Marshal(map[string]string{"error": message})
	if err != nil {
		http.Error(rw, message, status)
		return
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write(append(body, '\n'))
}

// validName keeps names safe as a header value, a router rule literal and a metrics label.
func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

func validDigest(digest string) bool {
	if len(digest) != sha256.Size*2 {
		return false
	}
	for _, r := range digest {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
