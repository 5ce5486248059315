package store

import (
	"context"
	"fmt"

	"github.com/hookctl/hookctl/internal/webhook"
)

// seedChunk is how many requests Seed inserts per transaction.
const seedChunk = 5000

// Seed inserts n requests made by gen(0) ... gen(n-1), in order, and sets their IDs. It is
// meant for tests and benchmarks that need a big log: it bypasses group commit and inserts
// thousands of rows per transaction on the writer's connection, far faster than n calls to
// AddRequest. gen may return the same *webhook.Request more than once only if it does not
// need the IDs. Seed fails on a read-only or closed Store.
func Seed(ctx context.Context, s *Store, n int, gen func(i int) *webhook.Request) error {
	chunk := make([]*webhook.Request, 0, min(n, seedChunk))
	for i := 0; i < n; i++ {
		r := gen(i)
		if r == nil {
			return fmt.Errorf("seed: request %d is nil", i)
		}
		chunk = append(chunk, r)
		if len(chunk) == cap(chunk) || i == n-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.insertBulk(ctx, chunk); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			chunk = chunk[:0]
		}
	}
	return nil
}
