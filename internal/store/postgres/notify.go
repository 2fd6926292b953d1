package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// How the listening connection checks that it is still connected while no
// notification arrives: a dead TCP peer would otherwise go unnoticed.
const (
	listenHeartbeat   = 2 * time.Second
	listenPingTimeout = time.Second
	listenDialTimeout = 5 * time.Second
)

// ListenConsentChanges holds a connection of its own that LISTENs for
// commits of consent events in this store's schema (Write sends one
// notification per transaction that appended events; rows inserted by other
// means send none and are found by polling only). It calls ready once it listens, then changed
// with the lowest and highest seq of every committed insert, from its own
// goroutine, until ctx ends (nil) or the connection fails (an error wrapping
// store.ErrUnavailable). Notifications sent while no connection listened are
// lost: the caller must poll after every ready to catch up.
//
// The change feed of internal/app uses it to hear within milliseconds of a
// change on another node, and to learn about an event that committed later
// than its seq suggested.
func (db *DB) ListenConsentChanges(ctx context.Context, ready func(), changed func(lo, hi int64)) error {
	cfg := db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] += "/feed"
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > listenDialTimeout {
		cfg.ConnectTimeout = listenDialTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return listenErr(ctx, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, qListen); err != nil {
		return listenErr(ctx, err)
	}
	ready()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenHeartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, listenPingTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return listenErr(ctx, err)
			}
		case err != nil:
			return listenErr(ctx, err)
		default:
			if lo, hi, ok := parseNotice(n.Payload, db.schema); ok {
				changed(lo, hi)
			}
		}
	}
}

func listenErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("postgres: listening for consent changes: %w", mapErr(err))
}

// parseNotice reads Write's payload "<schema> <lo> <hi>"; notices of
// other schemas sharing the database are not ours.
func parseNotice(payload, schema string) (lo, hi int64, ok bool) {
	rest, his, ok1 := cut(payload)
	rest, los, ok2 := cut(rest)
	if !ok1 || !ok2 || rest != schema {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseInt(los, 10, 64)
	hi, err2 := strconv.ParseInt(his, 10, 64)
	return lo, hi, err1 == nil && err2 == nil && lo <= hi
}

// cut splits off the last space-separated field (a schema name may itself
// hold spaces, the numbers cannot).
func cut(s string) (before, last string, ok bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}
