// Package cli holds hookctl's cobra commands, one file per command. Commands parse and validate
// flags, wire the domain packages together and print; exit codes are decided in Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"
)

// Env is what a command may touch outside its arguments: streams, environment and clock.
type Env struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutIsTTY reports whether Out is a terminal.
	OutIsTTY bool
	// Getenv reads an environment variable.
	Getenv func(string) string
	// Now returns the current time.
	Now func() time.Time
	// Signals ends the command's context on SIGINT or SIGTERM when true; tests leave it false
	// and cancel through ctx instead.
	Signals bool
	// Context is the parent context; nil means context.Background().
	Context context.Context
}

// System returns the Env of the running process.
func System() Env {
	return Env{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		OutIsTTY: term.IsTerminal(int(os.Stdout.Fd())),
		Getenv:   os.Getenv,
		Now:      time.Now,
		Signals:  true,
	}
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
)

// silentError is returned by a command that has already explained the failure.
type silentError struct{ error }

// Main runs hookctl with args and returns the process exit code. It is the one place where
// errors become exit codes and messages.
func Main(args []string, env Env) int {
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if env.Signals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		// After the first signal, a second one gets the default behaviour: exit at once.
		go func() { <-ctx.Done(); stop() }()
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	cmd := newRootCmd(&env)
	cmd.SetArgs(args)
	cmd.SetIn(env.In)
	cmd.SetOut(env.Out)
	cmd.SetErr(env.ErrOut)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var silent silentError
	if !errors.As(err, &silent) {
		fmt.Fprintln(env.ErrOut, "hookctl: "+oneLine(err.Error()))
	}
	return exitError
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newLogger returns the diagnostics logger: records from level up on w, everything with debug.
func newLogger(w io.Writer, level slog.Level, debug bool) *slog.Logger {
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
