// Package build reports the version hookctl was built as. Release builds set the variables
// below with -ldflags -X; other builds fall back to the module's build information.
package build

import "runtime/debug"

// Set at link time by release builds; read through Info.
var (
	version = ""
	commit  = ""
	date    = ""
)

// Info describes the running binary.
type Info struct {
	Version string
	Commit  string
	Date    string
}

// Current returns the build information of the running binary.
func Current() Info {
	info := Info{Version: version, Commit: commit, Date: date}
	if info.Commit == "none" || info.Commit == "unknown" {
		info.Commit = ""
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Commit == "":
				info.Commit = s.Value
			case s.Key == "vcs.time" && info.Date == "":
				info.Date = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}
