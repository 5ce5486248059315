package cli

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookctl/hookctl/internal/forward"
	"github.com/hookctl/hookctl/pkg/signature"
)

// parseSecrets builds the provider → secret map that listen verifies with: --verify
// PROVIDER=SECRET values first, then HOOKCTL_SECRET_<PROVIDER> variables for the providers
// not given. "hmac" is the generic scheme described by hmacSpec (--verify-hmac).
func parseSecrets(env *Env, values []string, hmacSpec string) (map[string]string, *signature.Generic, error) {
	var generic *signature.Generic
	if hmacSpec != "" {
		g, err := signature.ParseGeneric(hmacSpec)
		if err != nil {
			return nil, nil, fmt.Errorf("--verify-hmac: %w", err)
		}
		generic = &g
	}
	secrets := map[string]string{}
	add := func(name, secret, from string) error {
		s, err := schemeNamed(name, generic)
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		if secret == "" {
			return fmt.Errorf("%s: empty secret for %s", from, s.Name())
		}
		if err := s.Sign(&signature.Request{Method: "POST", URL: "http://localhost/", Header: http.Header{}}, secret, env.Now()); errors.Is(err, signature.ErrBadSecret) {
			return fmt.Errorf("%s: %w", from, err)
		}
		secrets[s.Name()] = secret
		return nil
	}
	for _, v := range values {
		name, secret, ok := strings.Cut(v, "=")
		if !ok {
			return nil, nil, fmt.Errorf("--verify %q: want PROVIDER=SECRET, e.g. stripe=whsec_...", redactSecret(v))
		}
		if err := add(name, secret, "--verify "+name); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range append(signature.Names(), "hmac") {
		v := env.Getenv("HOOKCTL_SECRET_" + forward.EnvName(name))
		if v == "" || (name == "hmac" && generic == nil) {
			continue
		}
		s, err := schemeNamed(name, generic)
		if err != nil {
			continue
		}
		if _, given := secrets[s.Name()]; given {
			continue
		}
		if err := add(name, v, "HOOKCTL_SECRET_"+forward.EnvName(name)); err != nil {
			return nil, nil, err
		}
	}
	return secrets, generic, nil
}

// schemeNamed returns the scheme a user named, or the generic one for "hmac".
func schemeNamed(name string, generic *signature.Generic) (signature.Scheme, error) {
	if strings.EqualFold(name, "hmac") {
		if generic == nil {
			return nil, errors.New(`"hmac" needs --verify-hmac HEADER:ALGORITHM:ENCODING[:PREFIX]`)
		}
		return *generic, nil
	}
	s, ok := signature.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (known: %s, hmac)", name, strings.Join(signature.Names(), ", "))
	}
	return s, nil
}

// redactSecret keeps a secret out of an error message.
func redactSecret(v string) string {
	if len(v) > 8 {
		return v[:4] + "…"
	}
	return "…"
}

// secretFor returns the secret for provider: flag when given, else its HOOKCTL_SECRET_ variable.
func secretFor(env *Env, flag, provider string) (string, bool) {
	if flag != "" {
		return flag, true
	}
	v := env.Getenv("HOOKCTL_SECRET_" + forward.EnvName(provider))
	return v, v != ""
}
