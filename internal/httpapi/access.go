package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/service"
)

func (a *API) createKey(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.KeyInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	k, err := a.svc.CreateKey(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/keys/"+k.ID)
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	ks, err := a.svc.ListKeys(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": ks})
	return nil
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.RevokeKey(r.Context(), pr, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.UserInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	us, err := a.svc.ListUsers(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	if err := a.svc.DeleteUser(r.Context(), pr, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// auditQuery reads the audit filters from the query string. They are ids,
// action names and times: nothing personal travels in this URL.
func auditQuery(r *http.Request) (service.AuditQuery, error) {
	v := r.URL.Query()
	q := service.AuditQuery{Actor: v.Get("actor"), Contact: v.Get("contact"), ObjectType: v.Get("object_type"),
		ObjectID: v.Get("object_id"), Action: v.Get("action"), Cursor: v.Get("cursor")}
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, apperr.New(apperr.InvalidRequest, "%s must be an RFC 3339 time", name)
			}
			*dst = t
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, apperr.New(apperr.InvalidRequest, "limit must be a number")
		}
		q.Limit = n
	}
	return q, nil
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	evs, next, err := a.svc.ListAudit(r.Context(), pr, q)
	if err != nil {
		return err
	}
	out := map[string]any{"events": evs}
	if next != "" {
		out["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// auditCSVHeader is the column order of the CSV export.
var auditCSVHeader = []string{"seq", "id", "at", "actor_type", "actor_id", "role", "action", "object_type", "object_id",
	"contact_id", "fields", "reason", "request_id", "result", "chain_pos"}

// exportAudit streams the matching events as JSON lines or CSV. Once the
// first byte is out, a later failure can only cut the stream short; the
// export's audit event is written before that byte.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	q, err := auditQuery(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	var emit func(service.AuditView) error
	var flush func() error
	started := false
	start := func(ct, ext string) {
		if !started {
			started = true
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Disposition", `attachment; filename="audit.`+ext+`"`)
			w.WriteHeader(http.StatusOK)
		}
	}
	switch format {
	case "", "jsonl":
		enc := json.NewEncoder(w)
		emit = func(v service.AuditView) error { start("application/jsonl", "jsonl"); return enc.Encode(v) }
		flush = func() error { start("application/jsonl", "jsonl"); return nil }
	case "csv":
		cw := csv.NewWriter(w)
		emit = func(v service.AuditView) error {
			if !started {
				start("text/csv; charset=utf-8", "csv")
				cw.Write(auditCSVHeader)
			}
			return cw.Write([]string{strconv.FormatInt(v.Seq, 10), v.ID, v.At.Format(time.RFC3339Nano), string(v.ActorType), v.ActorID,
				v.Role, string(v.Action), v.ObjectType, v.ObjectID, v.ContactID, strings.Join(v.Fields, " "), csvSafe(v.Reason),
				v.RequestID, string(v.Result), strconv.FormatInt(v.ChainPos, 10)})
		}
		flush = func() error {
			if !started {
				start("text/csv; charset=utf-8", "csv")
				cw.Write(auditCSVHeader)
			}
			cw.Flush()
			return cw.Error()
		}
	default:
		return apperr.New(apperr.InvalidRequest, "format must be jsonl or csv")
	}
	if err := a.svc.ExportAudit(r.Context(), pr, q, emit); err != nil {
		if started {
			// The status is sent; cutting the stream is all that is left.
			a.log.ErrorContext(r.Context(), "audit export cut short", "request_id", requestID(r), "err", err)
			return nil
		}
		return err
	}
	return flush()
}

// csvSafe keeps a free-text cell from being read as a formula by a
// spreadsheet (CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
