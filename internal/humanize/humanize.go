// Package humanize formats durations and sizes the way people read them in hookctl's output.
package humanize

import (
	"strconv"
	"strings"
	"time"
)

// Duration renders a latency: "850µs", "12ms", "1.2s"; "-" for zero or less.
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return d.Round(100 * time.Millisecond).String()
}

// Size renders a byte count in the largest binary unit it reaches: exactly when the unit
// divides it ("25MiB"), to one decimal otherwise ("25.7MiB", "1.5KiB"), in bytes below 1 KiB
// ("512B").
func Size(n int64) string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		switch {
		case n >= u.n && n%u.n == 0:
			return strconv.FormatInt(n/u.n, 10) + u.name
		case n >= u.n:
			return strconv.FormatFloat(float64(n)/float64(u.n), 'f', 1, 64) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// Count renders n of a thing: "1 attempt", "3 attempts".
func Count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// Thousands renders n with commas between groups of three digits: "1,234".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	b.WriteString(s[:len(s)-len(digits)])
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
