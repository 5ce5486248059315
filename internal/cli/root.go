package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hookctl/hookctl/internal/build"
	"github.com/hookctl/hookctl/internal/store"
	"github.com/hookctl/hookctl/internal/webhook"
)

// globals holds the persistent flags and what every command shares.
type globals struct {
	env     *Env
	db      string
	noColor bool
	debug   bool
}

func newRootCmd(env *Env) *cobra.Command {
	g := &globals{env: env}
	cmd := &cobra.Command{
		Use:   "hookctl",
		Short: "Record, forward, inspect and replay webhooks",
		Long: `hookctl gives webhook senders a URL, records every request in a local SQLite log,
forwards it byte for byte to your server, and lets you inspect and replay it.

Start with:  hookctl listen --forward-to localhost:3000`,
		Version:       build.Current().Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetVersionTemplate("hookctl {{.Version}}\n")
	pf := cmd.PersistentFlags()
	pf.StringVar(&g.db, "db", "", "path of the request log (env HOOKCTL_DB; default $XDG_DATA_HOME/hookctl/hookctl.db)")
	pf.BoolVar(&g.noColor, "no-color", false, "disable colour output (also NO_COLOR)")
	pf.BoolVar(&g.debug, "debug", false, "write debug diagnostics (to stderr; to $XDG_STATE_HOME/hookctl/hookctl.log while the terminal UI runs)")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	cmd.AddCommand(
		newListenCmd(g),
		newInspectCmd(g),
		newRequestsCmd(g),
		newReplayCmd(g),
		newRetryCmd(g),
		newRelayCmd(g),
		newVerifyCmd(g),
		newTriggerCmd(g),
		newShapeCmd(g),
		newExportCmd(g),
		newImportCmd(g),
		newPruneCmd(g),
		newVersionCmd(g),
	)
	return cmd
}

// logger returns the diagnostics logger for a command: warnings and errors on stderr.
func (g *globals) logger() *slog.Logger { return g.loggerFrom(slog.LevelWarn) }

// loggerFrom returns a logger on stderr for records from level up (everything with --debug).
func (g *globals) loggerFrom(level slog.Level) *slog.Logger {
	return newLogger(g.env.ErrOut, level, g.debug || g.env.Getenv("HOOKCTL_DEBUG") != "")
}

// sessionLogger returns the logger for a command that may own the terminal: diagnostics go to
// a file in the state directory while a terminal UI runs, and to stderr otherwise.
func (g *globals) sessionLogger(toFile bool) (*slog.Logger, func(), error) {
	if !toFile {
		return g.logger(), func() {}, nil
	}
	path, err := g.logPath()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open diagnostics file: %w", err)
	}
	return newLogger(f, slog.LevelWarn, g.debug || g.env.Getenv("HOOKCTL_DEBUG") != ""), func() { f.Close() }, nil
}

// logPath is the diagnostics file: $XDG_STATE_HOME/hookctl/hookctl.log.
func (g *globals) logPath() (string, error) {
	return g.xdgPath("XDG_STATE_HOME", ".local/state", "hookctl.log")
}

// xdgPath is file in hookctl's directory under the XDG base directory named by env, or under
// fallback in the home directory.
func (g *globals) xdgPath(env, fallback, file string) (string, error) {
	if d := g.env.Getenv(env); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "hookctl", file), nil
	}
	home := g.env.Getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("cannot find $%s: HOME is not set", env)
	}
	return filepath.Join(home, filepath.FromSlash(fallback), "hookctl", file), nil
}

// editor is the command that edits a body in the terminal UI.
func editor(env *Env) string {
	for _, v := range []string{"HOOKCTL_EDITOR", "VISUAL", "EDITOR"} {
		if e := env.Getenv(v); e != "" {
			return e
		}
	}
	return "vi"
}

// dbPath resolves the log path: --db, then HOOKCTL_DB, then the XDG data directory.
func (g *globals) dbPath() (string, error) {
	if g.db != "" {
		return g.db, nil
	}
	if p := g.env.Getenv("HOOKCTL_DB"); p != "" {
		return p, nil
	}
	p, err := g.xdgPath("XDG_DATA_HOME", ".local/share", "hookctl.db")
	if err != nil {
		return "", fmt.Errorf("%w (use --db or HOOKCTL_DB)", err)
	}
	return p, nil
}

// openLog opens the request log; its diagnostics go to log.
func (g *globals) openLog(ctx context.Context, log *slog.Logger, readOnly bool) (*store.Store, error) {
	path, err := g.dbPath()
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Config{Path: path, Logger: log, ReadOnly: readOnly})
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%w; check the permissions of the log and its directory, or choose another log with --db", err)
	}
	return db, err
}

// readRequest opens the log read-only and reads the request that arg (an id as users type
// it) names. The caller closes the log.
func (g *globals) readRequest(ctx context.Context, arg string) (*store.Store, *webhook.Request, error) {
	id, err := parseID(arg)
	if err != nil {
		return nil, nil, err
	}
	db, err := g.openLog(ctx, g.logger(), true)
	if err != nil {
		return nil, nil, err
	}
	r, err := db.Request(ctx, id)
	if err != nil {
		err = explain(err, id, db)
		db.Close()
		return nil, nil, err
	}
	return db, r, nil
}

// explain turns a lookup failure into a message that says what to do.
func explain(err error, id int64, db *store.Store) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no request with id %d in %s (see 'hookctl requests list')", id, db.Path())
	}
	if errors.Is(err, store.ErrCorrupt) {
		return fmt.Errorf("%s: %w; move the file aside or choose another log with --db", db.Path(), err)
	}
	return err
}

// color reports whether output may be coloured.
func (g *globals) color() bool {
	return g.env.OutIsTTY && !g.noColor && g.env.Getenv("NO_COLOR") == ""
}
