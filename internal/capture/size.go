package capture

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize parses a size such as "25MiB", "512KiB", "10MB", "2048" or "1.5MiB" into bytes.
// Decimal units (KB, MB, GB) are powers of 1000, binary units (KiB, MiB, GiB) of 1024.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	i := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := in, ""
	if i >= 0 {
		num, unit = in[:i], strings.TrimSpace(in[i:])
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	}[strings.ToLower(unit)]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v <= 0 {
		return 0, fmt.Errorf("invalid size %q (use a number of bytes or a unit such as 512KiB or 25MiB)", s)
	}
	return int64(v * mult), nil
}
