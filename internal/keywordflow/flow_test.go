package keywordflow

import (
	"reflect"
	"testing"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/keyword"
)

var now = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	news   = Purpose{Key: "news", Basis: consent.BasisConsent, DoubleOptIn: true, Lifetime: 365 * 24 * time.Hour}
	offers = Purpose{Key: "offers", Basis: consent.BasisConsent}
	tips   = Purpose{Key: "tips", Basis: consent.BasisLegitimateInterest}
	orders = Purpose{Key: "orders", Basis: consent.BasisContract}
)

func res(a keyword.Action, scope string) keyword.Result {
	return keyword.Result{Intent: a.Intent(), Action: a, Scope: scope, Keyword: "X", Language: "en"}
}

func granted(confirmed bool) State {
	return State{Status: consent.StatusGranted, Confirmed: confirmed, RecordedAt: now.Add(-time.Hour)}
}

func pendingSince(d time.Duration) State {
	return State{Status: consent.StatusPending, RecordedAt: now.Add(-d)}
}

var withdrawn = State{Status: consent.StatusWithdrawn}

func TestDecide(t *testing.T) {
	sender := []Purpose{news, offers}
	tenant := []Purpose{news, offers, tips, orders}
	tests := []struct {
		name     string
		res      keyword.Result
		current  map[string]State
		lastStop []StopItem
		want     Plan
	}{
		{name: "STOP withdraws the sender's purposes",
			res:     res(keyword.ActionStop, keyword.ScopeSender),
			current: map[string]State{"news": granted(true), "tips": {Status: consent.StatusNone}},
			want: Plan{Outcome: OutcomeOptOut, Reply: ReplyOptOut,
				Changes:    []Change{{Purpose: "news", Status: consent.StatusWithdrawn}, {Purpose: "offers", Status: consent.StatusWithdrawn}},
				Affected:   []string{"news", "offers"},
				Continuing: []string{"tips", "orders"},
				SaveStop: []StopItem{{Purpose: "news", Status: consent.StatusGranted, Confirmed: true},
					{Purpose: "offers", Status: consent.StatusNone}},
				NeedsContact: true}},
		{name: "STOP when already stopped changes nothing and keeps the old record",
			res:     res(keyword.ActionStop, keyword.ScopeSender),
			current: map[string]State{"news": withdrawn, "offers": withdrawn, "orders": withdrawn},
			want: Plan{Outcome: OutcomeOptOut, Reply: ReplyOptOut, Affected: []string{"news", "offers"},
				Continuing: []string{"tips"}}},
		{name: "STOPALL withdraws every purpose on the channel, whatever its basis",
			res: res(keyword.ActionStopAll, keyword.ScopeAll),
			want: Plan{Outcome: OutcomeOptOut, Reply: ReplyOptOut,
				Changes: []Change{{Purpose: "news", Status: consent.StatusWithdrawn}, {Purpose: "offers", Status: consent.StatusWithdrawn},
					{Purpose: "tips", Status: consent.StatusWithdrawn}, {Purpose: "orders", Status: consent.StatusWithdrawn}},
				Affected: []string{"news", "offers", "tips", "orders"},
				SaveStop: []StopItem{{Purpose: "news", Status: consent.StatusNone}, {Purpose: "offers", Status: consent.StatusNone},
					{Purpose: "tips", Status: consent.StatusNone}, {Purpose: "orders", Status: consent.StatusNone}},
				NeedsContact: true}},
		{name: "purpose keyword withdraws one purpose",
			res:     res(keyword.ActionStop, "offers"),
			current: map[string]State{"news": granted(true), "offers": granted(true)},
			want: Plan{Outcome: OutcomeOptOut, Reply: ReplyOptOut,
				Changes: []Change{{Purpose: "offers", Status: consent.StatusWithdrawn}}, Affected: []string{"offers"},
				Continuing: []string{"news", "tips", "orders"},
				SaveStop:   []StopItem{{Purpose: "offers", Status: consent.StatusGranted, Confirmed: true}}, NeedsContact: true}},
		{name: "purpose keyword for an unknown purpose stops the whole sender",
			res: res(keyword.ActionStop, "gone"),
			want: Plan{Outcome: OutcomeOptOut, Reply: ReplyOptOut,
				Changes:  []Change{{Purpose: "news", Status: consent.StatusWithdrawn}, {Purpose: "offers", Status: consent.StatusWithdrawn}},
				Affected: []string{"news", "offers"}, Continuing: []string{"tips", "orders"},
				SaveStop:     []StopItem{{Purpose: "news", Status: consent.StatusNone}, {Purpose: "offers", Status: consent.StatusNone}},
				NeedsContact: true}},
		{name: "SUBSCRIBE: double opt-in pending, single opt-in granted",
			res: res(keyword.ActionSubscribe, keyword.ScopeSender),
			want: Plan{Outcome: OutcomePending, Reply: ReplyDoubleOptIn,
				Changes:  []Change{{Purpose: "news", Status: consent.StatusPending}, {Purpose: "offers", Status: consent.StatusGranted, Confirmed: true}},
				Affected: []string{"news", "offers"}, NeedsContact: true}},
		{name: "SUBSCRIBE again while pending asks again without a new event",
			res:     res(keyword.ActionSubscribe, "news"),
			current: map[string]State{"news": pendingSince(time.Hour)},
			want:    Plan{Outcome: OutcomePending, Reply: ReplyDoubleOptIn, Affected: []string{"news"}}},
		{name: "SUBSCRIBE after the window lapsed starts a new pending",
			res:     res(keyword.ActionSubscribe, "news"),
			current: map[string]State{"news": pendingSince(25 * time.Hour)},
			want: Plan{Outcome: OutcomePending, Reply: ReplyDoubleOptIn,
				Changes: []Change{{Purpose: "news", Status: consent.StatusPending}}, Affected: []string{"news"}, NeedsContact: true}},
		{name: "SUBSCRIBE when already granted confirms without an event",
			res:     res(keyword.ActionSubscribe, keyword.ScopeSender),
			current: map[string]State{"news": granted(true), "offers": granted(true)},
			want:    Plan{Outcome: OutcomeOptIn, Reply: ReplyOptIn, Affected: []string{"news", "offers"}}},
		{name: "YES within the window grants with the purpose's lifetime",
			res:     res(keyword.ActionConfirm, keyword.ScopeSender),
			current: map[string]State{"news": pendingSince(23 * time.Hour)},
			want: Plan{Outcome: OutcomeOptIn, Reply: ReplyOptIn,
				Changes:  []Change{{Purpose: "news", Status: consent.StatusGranted, Confirmed: true, ExpiresAt: now.Add(365 * 24 * time.Hour)}},
				Affected: []string{"news"}}},
		{name: "YES after the window is conversation",
			res:     res(keyword.ActionConfirm, keyword.ScopeSender),
			current: map[string]State{"news": pendingSince(24 * time.Hour)},
			want:    Plan{Outcome: OutcomeForwarded}},
		{name: "YES with nothing pending is conversation",
			res:  res(keyword.ActionConfirm, keyword.ScopeSender),
			want: Plan{Outcome: OutcomeForwarded}},
		{name: "START restores exactly what the last STOP withdrew",
			res:     res(keyword.ActionRestart, keyword.ScopeSender),
			current: map[string]State{"news": withdrawn, "offers": withdrawn, "tips": withdrawn},
			lastStop: []StopItem{{Purpose: "news", Status: consent.StatusGranted, Confirmed: true, ExpiresAt: now.Add(time.Hour)},
				{Purpose: "offers", Status: consent.StatusNone}},
			want: Plan{Outcome: OutcomeRestored, Reply: ReplyOptIn, ClearStop: true,
				Changes: []Change{{Purpose: "news", Status: consent.StatusGranted, Confirmed: true, ExpiresAt: now.Add(time.Hour)},
					{Purpose: "offers", Status: consent.StatusNone}},
				Affected: []string{"news", "offers"}}},
		{name: "START does not undo a later change",
			res:      res(keyword.ActionRestart, keyword.ScopeSender),
			current:  map[string]State{"news": pendingSince(time.Minute)},
			lastStop: []StopItem{{Purpose: "news", Status: consent.StatusGranted, Confirmed: true}},
			want:     Plan{Outcome: OutcomeRestored, Reply: ReplyOptIn, ClearStop: true}},
		{name: "START without a STOP subscribes",
			res: res(keyword.ActionRestart, "offers"),
			want: Plan{Outcome: OutcomeOptIn, Reply: ReplyOptIn,
				Changes: []Change{{Purpose: "offers", Status: consent.StatusGranted, Confirmed: true}}, Affected: []string{"offers"}, NeedsContact: true}},
		{name: "HELP replies and changes nothing",
			res:  res(keyword.ActionHelp, keyword.ScopeSender),
			want: Plan{Outcome: OutcomeHelp, Reply: ReplyHelp}},
		{name: "conversation is forwarded",
			res:  keyword.Result{Intent: keyword.IntentNone},
			want: Plan{Outcome: OutcomeForwarded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(Input{Result: tt.res, SenderPurposes: sender, TenantPurposes: tenant, Current: tt.current,
				LastStop: tt.lastStop, Now: now})
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestStopThenStartRoundTrip: applying a STOP's changes and then START's
// gives back the states the contact had, for every starting state.
func TestStopThenStartRoundTrip(t *testing.T) {
	states := []State{{Status: consent.StatusNone}, granted(true), granted(false), pendingSince(time.Hour)}
	for _, a := range states {
		for _, b := range states {
			cur := map[string]State{"news": a, "offers": b}
			before := map[string]State{"news": a, "offers": b}
			in := Input{Result: res(keyword.ActionStop, keyword.ScopeSender), SenderPurposes: []Purpose{news, offers},
				TenantPurposes: []Purpose{news, offers}, Current: cur, Now: now}
			p := Decide(in)
			for _, c := range p.Changes {
				cur[c.Purpose] = State{Status: c.Status}
			}
			in.Result, in.LastStop = res(keyword.ActionRestart, keyword.ScopeSender), p.SaveStop
			for _, c := range Decide(in).Changes {
				cur[c.Purpose] = State{Status: c.Status, Confirmed: c.Confirmed, ExpiresAt: c.ExpiresAt, RecordedAt: before[c.Purpose].RecordedAt}
			}
			for k, v := range before {
				if cur[k].Status != v.Status || cur[k].Confirmed != v.Confirmed {
					t.Errorf("%v/%v: %s = %+v after STOP+START, want %+v", a.Status, b.Status, k, cur[k], v)
				}
			}
		}
	}
}
