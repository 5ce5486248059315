package forward

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookctl/hookctl/internal/webhook"
	"github.com/hookctl/hookctl/pkg/signature"
)

// ErrNoSecret is wrapped by a Resigner asked to sign for a provider it has no secret for.
var ErrNoSecret = errors.New("no secret")

// Resigner returns a Prepare that gives the request a fresh signature at now() with the
// secret that secret returns for its provider (by scheme name), so that a handler checking
// the signature's timestamp accepts the replay. Requests from unknown providers are sent as
// they are; a known provider without a secret is an error wrapping ErrNoSecret.
func Resigner(secret func(provider string) (string, bool), now func() time.Time) Prepare {
	return func(r *webhook.Request) error {
		s, ok := signature.Lookup(r.Provider)
		if !ok {
			if s, ok = signature.Identify(r.Header.Canonical()); !ok {
				return nil
			}
		}
		key, ok := secret(s.Name())
		if !ok {
			return fmt.Errorf("re-sign %s request: %w (pass --secret, or set HOOKCTL_SECRET_%s)", s.Name(), ErrNoSecret, EnvName(s.Name()))
		}
		sr := &signature.Request{Method: r.Method, URL: r.URL(), Header: r.Header.Canonical(), Body: r.Body}
		before := sr.Header.Clone()
		if err := s.Sign(sr, key, now()); err != nil {
			return fmt.Errorf("re-sign %s request: %w", s.Name(), err)
		}
		setChanged(r, before, sr.Header)
		return nil
	}
}

// BestEffort is p, except that a provider without a secret is sent as it is: for edited
// copies, which should be re-signed when possible.
func BestEffort(p Prepare) Prepare {
	if p == nil {
		return nil
	}
	return func(r *webhook.Request) error {
		if err := p(r); err != nil && !errors.Is(err, ErrNoSecret) {
			return err
		}
		return nil
	}
}

// EnvName is the suffix of the environment variable that holds a provider's secret:
// HOOKCTL_SECRET_<EnvName(provider)>.
func EnvName(provider string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(provider))
}

// setChanged writes into r the headers that signing changed or added: in place of the first
// line of the same name, spelled as r had it, or at the end for new ones.
func setChanged(r *webhook.Request, before, after http.Header) {
	for key, values := range after {
		if slices.Equal(before[key], values) {
			continue
		}
		name, pos := key, -1
		kept := make(webhook.Headers, 0, len(r.Header))
		for _, f := range r.Header {
			if strings.EqualFold(f.Name, key) {
				if pos < 0 {
					name, pos = f.Name, len(kept)
				}
				continue
			}
			kept = append(kept, f)
		}
		if pos < 0 {
			pos = len(kept)
		}
		fields := make(webhook.Headers, 0, len(values)+len(kept))
		fields = append(fields, kept[:pos]...)
		for _, v := range values {
			fields = append(fields, webhook.Field{Name: name, Value: v})
		}
		r.Header = append(fields, kept[pos:]...)
	}
}
