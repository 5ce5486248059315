package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hookctl/hookctl/internal/relay"
)

// relayChannel returns this user's channel on the relay at relayURL: the one saved in the
// credentials file at path, or a new one created on the relay and saved there (0600), so the
// public URL stays the same across restarts.
func relayChannel(ctx context.Context, path, relayURL, token string) (*relay.Credentials, error) {
	saved := map[string]relay.Credentials{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read relay credentials: %w", err)
	default:
		if err := json.Unmarshal(b, &saved); err != nil {
			return nil, fmt.Errorf("read relay credentials %s: %w (remove the file to create a new channel)", path, err)
		}
	}
	if c, ok := saved[relayURL]; ok {
		return &c, nil
	}
	c, err := relay.CreateChannel(ctx, relayURL, token)
	if err != nil {
		return nil, err
	}
	saved[relayURL] = c
	b, err = json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("save relay credentials: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, fmt.Errorf("save relay credentials: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("save relay credentials: %w", err)
	}
	return &c, nil
}
