package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookctl/hookctl/internal/webhook"
)

// deliveryCols are the columns of a delivery (dl) that deliveryRow reads.
const deliveryCols = `dl.request_id, dl.target, dl.state, dl.attempts, dl.first_at, dl.next_at, dl.updated_at`

// deliveryRow scans deliveryCols, which are all NULL for a request without a delivery.
type deliveryRow struct {
	id                         sql.NullInt64
	target, state              sql.NullString
	attempts                   sql.NullInt64
	firstAt, nextAt, updatedAt sql.NullInt64
}

func (d *deliveryRow) dest() []any {
	return []any{&d.id, &d.target, &d.state, &d.attempts, &d.firstAt, &d.nextAt, &d.updatedAt}
}

func (d *deliveryRow) delivery() webhook.Delivery {
	if !d.state.Valid {
		return webhook.Delivery{}
	}
	return webhook.Delivery{
		RequestID: d.id.Int64, Target: d.target.String, State: d.state.String, Attempts: int(d.attempts.Int64),
		FirstAt: timeOf(d.firstAt), NextAt: timeOf(d.nextAt), UpdatedAt: timeOf(d.updatedAt),
	}
}

// queryDeliveries runs a query selecting deliveryCols from deliveries dl.
func (s *Store) queryDeliveries(ctx context.Context, op, query string, args ...any) ([]webhook.Delivery, error) {
	if err := s.checkOpen(op); err != nil {
		return nil, err
	}
	rows, err := s.rd.QueryContext(ctx, "SELECT "+deliveryCols+" FROM deliveries dl "+query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []webhook.Delivery
	for rows.Next() {
		var d deliveryRow
		if err := rows.Scan(d.dest()...); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, d.delivery())
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// Delivery returns the background delivery of a request. A request that was not queued for
// delivery, or an unknown one, gives an error wrapping ErrNotFound.
func (s *Store) Delivery(ctx context.Context, requestID int64) (*webhook.Delivery, error) {
	ds, err := s.queryDeliveries(ctx, "read delivery", "WHERE dl.request_id = ?", requestID)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("request %d: no queued delivery: %w", requestID, ErrNotFound)
	}
	return &ds[0], nil
}

// PendingDeliveries returns up to limit pending deliveries to target: in arrival order, or,
// with byDue, those due soonest first.
func (s *Store) PendingDeliveries(ctx context.Context, target string, limit int, byDue bool) ([]webhook.Delivery, error) {
	order := "dl.request_id"
	if byDue {
		order = "dl.next_at, dl.request_id"
	}
	return s.queryDeliveries(ctx, "read pending deliveries",
		"WHERE dl.target = ? AND dl.state = 'pending' ORDER BY "+order+" LIMIT ?", target, max(limit, 1))
}

// FailedDeliveries returns, oldest first, the deliveries whose attempts so far have all
// failed: those given up, and those pending with at least one attempt behind them.
func (s *Store) FailedDeliveries(ctx context.Context) ([]webhook.Delivery, error) {
	return s.queryDeliveries(ctx, "read failed deliveries",
		"WHERE dl.state = 'given_up' OR (dl.state = 'pending' AND dl.attempts > 0) ORDER BY dl.request_id")
}

// DeliveryTargets counts the pending deliveries of each target.
func (s *Store) DeliveryTargets(ctx context.Context) (map[string]int, error) {
	if err := s.checkOpen("count deliveries"); err != nil {
		return nil, err
	}
	rows, err := s.rd.QueryContext(ctx, "SELECT target, count(*) FROM deliveries WHERE state = 'pending' GROUP BY target")
	if err != nil {
		return nil, wrap("count deliveries", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var t string
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, wrap("count deliveries", err)
		}
		out[t] = n
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("count deliveries", err)
	}
	return out, nil
}
