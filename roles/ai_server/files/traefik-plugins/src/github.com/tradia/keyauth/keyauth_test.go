package keyauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	aliceKey    = "alice-key-0123456789abcdef0123456789abcdef"
	aliceNewKey = "alice-new-0123456789abcdef0123456789abcdef"
	bobKey      = "bob-key-0123456789abcdef0123456789abcdef"
)

func digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func basic(user, key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+key))
}

// seen records what the next handler received; nil when it was not called.
type seen struct{ header http.Header }

func (s *seen) ServeHTTP(_ http.ResponseWriter, req *http.Request) { s.header = req.Header.Clone() }

func build(t *testing.T, config *Config) (http.Handler, *seen) {
	t.Helper()
	next := &seen{}
	handler, err := New(context.Background(), next, config, "test")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return handler, next
}

func clients() *Config {
	config := CreateConfig()
	config.Clients = []Client{
		{Name: "alice", Keys: []string{digest(aliceKey), digest(aliceNewKey)}},
		{Name: "bob", Keys: []string{digest(bobKey)}, Users: []string{"tradia"}},
	}
	return config
}

func TestAuthorization(t *testing.T) {
	cases := []struct {
		name          string
		authorization string
		client        string
	}{
		{"bearer", "Bearer " + aliceKey, "alice"},
		{"bearer lower-case scheme", "bearer " + bobKey, "bob"},
		{"basic api", basic("api", aliceKey), "alice"},
		{"basic own name", basic("bob", bobKey), "bob"},
		{"basic extra user name", basic("tradia", bobKey), "bob"},
		{"basic another client's extra user name", basic("tradia", aliceKey), ""},
		{"second key of a client", "Bearer " + aliceNewKey, "alice"},
		{"missing", "", ""},
		{"wrong key", "Bearer " + aliceKey + "x", ""},
		{"basic with another client's name", basic("bob", aliceKey), ""},
		{"basic without colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(aliceKey)), ""},
		{"basic not base64", "Basic %%%", ""},
		{"empty bearer", "Bearer ", ""},
		{"unknown scheme", "Token " + aliceKey, ""},
		{"digest instead of key", "Bearer " + digest(aliceKey), ""},
	}
	handler, next := build(t, clients())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next.header = nil
			req := httptest.NewRequest(http.MethodPost, "/api/chat", nil)
			req.Header.Set("X-Tradia-Client", "forged")
			if c.authorization != "" {
				req.Header.Set("Authorization", c.authorization)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if c.client == "" {
				if rec.Code != http.StatusUnauthorized || next.header != nil {
					t.Fatalf("want 401 without calling next, got %d (next called: %v)", rec.Code, next.header != nil)
				}
				challenge := strings.Join(rec.Header().Values("WWW-Authenticate"), ", ")
				if !strings.Contains(challenge, `Basic realm="tradia-ai"`) || !strings.Contains(challenge, "Bearer") {
					t.Fatalf("challenge %q", challenge)
				}
				if rec.Body.String() != "{\"error\":\"unauthorized\"}\n" {
					t.Fatalf("body %q", rec.Body.String())
				}
				return
			}
			if next.header == nil {
				t.Fatalf("next not called; status %d", rec.Code)
			}
			if got := next.header.Values("X-Tradia-Client"); len(got) != 1 || got[0] != c.client {
				t.Fatalf("client header %q, want %q", got, c.client)
			}
			if next.header.Get("Authorization") != "" {
				t.Fatal("Authorization reached the backend")
			}
		})
	}
}

func TestDeny(t *testing.T) {
	config := CreateConfig()
	config.Deny = true
	handler, next := build(t, config)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/pull", nil))
	if rec.Code != http.StatusForbidden || next.header != nil {
		t.Fatalf("want 403 without calling next, got %d", rec.Code)
	}
	if rec.Body.String() != "{\"error\":\"this client may not use /api/pull\"}\n" {
		t.Fatalf("body %q", rec.Body.String())
	}
}

func TestInvalidConfig(t *testing.T) {
	cases := map[string]func(*Config){
		"no clients":      func(c *Config) { c.Clients = nil },
		"clear-text key":  func(c *Config) { c.Clients[0].Keys[0] = aliceKey },
		"upper-case hex":  func(c *Config) { c.Clients[0].Keys[0] = strings.ToUpper(digest(aliceKey)) },
		"shared key":      func(c *Config) { c.Clients[1].Keys[0] = digest(aliceKey) },
		"duplicate name":  func(c *Config) { c.Clients[1].Name = "alice" },
		"name with space": func(c *Config) { c.Clients[0].Name = "al ice" },
		"quote in realm":  func(c *Config) { c.Realm = `a"b` },
		"no header name":  func(c *Config) { c.ClientHeader = "" },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			config := clients()
			spoil(config)
			if _, err := New(context.Background(), &seen{}, config, "test"); err == nil {
				t.Fatal("New accepted the configuration")
			}
		})
	}
}
