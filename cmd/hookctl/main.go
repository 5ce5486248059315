// Command hookctl records, forwards, inspects and replays webhooks.
package main

import (
	"os"

	"github.com/hookctl/hookctl/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.System()))
}
