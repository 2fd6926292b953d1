package inventory

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/consent"
)

// DataMap is where personal data goes, per purpose and channel: from the
// tenant's application or the data subject, through the gateway and its
// database, to the processor of the channel and on to the recipient.
type DataMap struct {
	Tenant      string    `json:"tenant"`
	Digest      string    `json:"digest"`
	GeneratedAt time.Time `json:"generated_at"`
	Nodes       []Node    `json:"nodes"`
	Flows       []Flow    `json:"flows"`
}

// Node is a place data passes through or rests in.
type Node struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"` // subject, application, gateway, store, processor, webhook
	Label   string `json:"label"`
	Country string `json:"country,omitempty"`
}

// Flow is one hop of data for one purpose and channel.
type Flow struct {
	Purpose   string          `json:"purpose"`
	Channel   consent.Channel `json:"channel"`
	Direction string          `json:"direction"` // outbound (a message sent) or inbound (a reply)
	From      string          `json:"from"`
	To        string          `json:"to"`
	Data      []DataCategory  `json:"data"`
	Note      string          `json:"note,omitempty"`
}

// BuildDataMap derives the flows from the same input as the record.
func BuildDataMap(in Input, at time.Time) DataMap {
	m := DataMap{Tenant: in.Tenant, GeneratedAt: at.UTC()}
	m.Nodes = []Node{
		{ID: "subject", Kind: "subject", Label: "Data subject"},
		{ID: "application", Kind: "application", Label: "Controller's application"},
		{ID: "gateway", Kind: "gateway", Label: "consentgate"},
		{ID: "store", Kind: "store", Label: "Database (" + orDash(in.Storage.Engine) + ")", Country: in.Storage.Country},
	}
	procs := map[consent.Channel]Processor{}
	for _, p := range in.Processors {
		procs[p.Channel] = p
	}
	purposes := slices.Clone(in.Purposes)
	slices.SortFunc(purposes, func(x, y consent.Purpose) int { return strings.Compare(x.Key, y.Key) })
	added := map[string]bool{}
	for _, p := range purposes {
		chans := slices.Clone(p.Channels)
		slices.Sort(chans)
		for _, ch := range chans {
			pid := "processor_" + string(ch)
			if !added[pid] {
				added[pid] = true
				n := Node{ID: pid, Kind: "processor", Label: "no provider configured (" + string(ch) + ")"}
				if pr, ok := procs[ch]; ok {
					n.Label, n.Country = pr.Name+" ("+string(ch)+")", pr.Country
					if pr.Internal {
						n.Label += ", internal sink"
					}
				}
				m.Nodes = append(m.Nodes, n)
			}
			m.Flows = append(m.Flows, purposeFlows(p.Key, ch, pid, in.Facts.ForwardTarget != "")...)
		}
	}
	if in.Facts.ForwardTarget != "" {
		m.Nodes = append(m.Nodes, Node{ID: "webhook", Kind: "webhook", Label: "Controller's webhook (" + in.Facts.ForwardTarget + ")"})
	}
	if m.Flows == nil {
		m.Flows = []Flow{}
	}
	m.Digest = Digest(struct {
		N []Node
		F []Flow
	}{m.Nodes, m.Flows})
	return m
}

func purposeFlows(purpose string, ch consent.Channel, pid string, forward bool) []Flow {
	out := []Flow{
		{From: "application", To: "gateway", Data: []DataCategory{CatIdentifiers, CatMessageBodies}, Note: "send request, decided before it is queued"},
		{From: "gateway", To: "store", Data: []DataCategory{CatMessageMetadata, CatMessageBodies, CatConsentEvidence}, Note: "text sealed until a final status"},
		{From: "gateway", To: pid, Data: []DataCategory{CatIdentifiers, CatMessageBodies}, Note: "delivery"},
		{From: pid, To: "subject", Data: []DataCategory{CatMessageBodies}},
	}
	for i := range out {
		out[i].Direction = "outbound"
	}
	if ch == consent.Voice {
		return stampFlows(out, purpose, ch)
	}
	in := []Flow{
		{From: "subject", To: pid, Data: []DataCategory{CatIdentifiers, CatInboundMessages}, Note: "reply: STOP, YES, HELP or conversation"},
		{From: pid, To: "gateway", Data: []DataCategory{CatIdentifiers, CatInboundMessages}, Note: "signed webhook"},
		{From: "gateway", To: "store", Data: []DataCategory{CatInboundMessages, CatConsentEvidence}, Note: "keyword and outcome; text only as a keyed hash"},
	}
	if forward {
		in = append(in, Flow{From: "gateway", To: "webhook", Data: []DataCategory{CatIdentifiers, CatInboundMessages}, Note: "replies that are not keywords"})
	}
	for i := range in {
		in[i].Direction = "inbound"
	}
	return stampFlows(append(out, in...), purpose, ch)
}

func stampFlows(fs []Flow, purpose string, ch consent.Channel) []Flow {
	for i := range fs {
		fs[i].Purpose, fs[i].Channel = purpose, ch
	}
	return fs
}

// WriteDataMap renders the map as JSON, Mermaid flowchart source, or
// Markdown (a flow table with the Mermaid diagram).
func WriteDataMap(w io.Writer, m DataMap, f Format) error {
	if err := check(f, DataMapFormats); err != nil {
		return err
	}
	switch f {
	case JSON:
		return writeJSON(w, m)
	case Mermaid:
		_, err := io.WriteString(w, mermaid(m))
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Data map: %s\n\n- **Digest:** %s\n- **Generated at:** %s\n\n```mermaid\n%s```\n\n", mdText(m.Tenant), m.Digest, stamp(m.GeneratedAt), mermaid(m))
	b.WriteString("| Purpose | Channel | Direction | From | To | Data | Note |\n|---|---|---|---|---|---|---|\n")
	label := map[string]string{}
	for _, n := range m.Nodes {
		label[n.ID] = n.Label
	}
	for _, fl := range m.Flows {
		cells := mdCells([]string{fl.Purpose, string(fl.Channel), fl.Direction, label[fl.From], label[fl.To], joinCh(fl.Data), fl.Note})
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaid draws one edge per (from, to, direction), labelled with the
// purposes and channels that use it, so the diagram stays readable when a
// tenant has many purposes.
func mermaid(m DataMap) string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, n := range m.Nodes {
		label := n.Label
		if n.Country != "" {
			label += ", " + n.Country
		}
		open, close := "[\"", "\"]"
		switch n.Kind {
		case "subject":
			open, close = "([\"", "\"])"
		case "store":
			open, close = "[(\"", "\")]"
		}
		fmt.Fprintf(&b, "    %s%s%s%s\n", n.ID, open, mermaidText(label), close)
	}
	type edge struct{ from, to, dir string }
	var order []edge
	uses := map[edge][]string{}
	for _, f := range m.Flows {
		e := edge{f.From, f.To, f.Direction}
		if _, ok := uses[e]; !ok {
			order = append(order, e)
		}
		u := f.Purpose + "/" + string(f.Channel)
		if !slices.Contains(uses[e], u) {
			uses[e] = append(uses[e], u)
		}
	}
	for _, e := range order {
		arrow := "-->"
		if e.dir == "inbound" {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "    %s %s|\"%s\"| %s\n", e.from, arrow, mermaidText(strings.Join(uses[e], ", ")), e.to)
	}
	return b.String()
}

// mermaidText escapes what would end a quoted Mermaid label.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", " ", "|", "#124;").Replace(s)
}
