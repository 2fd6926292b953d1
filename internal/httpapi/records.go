package httpapi

import (
	"bytes"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/consentgate/consentgate/internal/apperr"
	"github.com/consentgate/consentgate/internal/auth"
	"github.com/consentgate/consentgate/internal/inventory"
	"github.com/consentgate/consentgate/internal/service"
)

// negotiate picks the export format: ?format= wins over Accept; neither
// means JSON. A format the document does not come in is 406 Not
// Acceptable, with the formats it does come in.
func negotiate(r *http.Request, allowed []inventory.Format) (inventory.Format, error) {
	names := make([]string, len(allowed))
	for i, f := range allowed {
		names[i] = string(f)
	}
	refuse := func(what string) error {
		e := apperr.New(apperr.NotAcceptable, "%s: this document comes as %s (?format= or Accept)", what, strings.Join(names, ", "))
		e.Details = map[string]any{"formats": names}
		return e
	}
	if q := r.URL.Query(); q.Has("format") {
		f, ok := inventory.ParseFormat(q.Get("format"))
		if !ok || !contains(allowed, f) {
			return "", refuse("format " + strconv.Quote(q.Get("format")) + " is not available")
		}
		return f, nil
	}
	accept := r.Header.Get("Accept")
	if strings.TrimSpace(accept) == "" {
		return inventory.JSON, nil
	}
	type choice struct {
		f inventory.Format
		q float64
	}
	var best []choice // in the order given, so that equal q keep it
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		if q <= 0 {
			continue
		}
		if f, ok := matchMedia(mt, allowed); ok {
			best = append(best, choice{f, q})
		}
	}
	if len(best) == 0 {
		return "", refuse("no acceptable format in Accept: " + accept)
	}
	sort.SliceStable(best, func(a, b int) bool { return best[a].q > best[b].q })
	return best[0].f, nil
}

// matchMedia returns the format a media range asks for: an exact type, or
// for */* the document's default (first) format, or for text/* the first
// text format.
func matchMedia(mt string, allowed []inventory.Format) (inventory.Format, bool) {
	if mt == "*/*" {
		return allowed[0], true
	}
	for _, f := range allowed {
		ct, _, _ := mime.ParseMediaType(f.ContentType())
		if mt == ct || (strings.HasSuffix(mt, "/*") && strings.HasPrefix(ct, strings.TrimSuffix(mt, "*"))) {
			return f, true
		}
	}
	return "", false
}

func contains(fs []inventory.Format, f inventory.Format) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// writeExport renders into a buffer first, so that a rendering error is
// still a problem document and not a half-sent file.
func writeExport(w http.ResponseWriter, f inventory.Format, name, version, digest string, render func(*bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return apperr.Wrap(err, apperr.Internal, "the export could not be rendered")
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType())
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept")
	if version != "" {
		h.Set("X-Record-Version", version)
	}
	if digest != "" {
		h.Set("X-Record-Digest", digest)
	}
	if f != inventory.JSON {
		h.Set("Content-Disposition", `attachment; filename="`+name+"."+f.Extension()+`"`)
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b.Bytes())
	return err
}

func (a *API) getRopa(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	f, err := negotiate(r, inventory.RecordFormats)
	if err != nil {
		return err
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return apperr.New(apperr.InvalidRequest, "version must be a positive number")
		}
	}
	rec, err := a.svc.Ropa(r.Context(), pr, version)
	if err != nil {
		return err
	}
	v := strconv.Itoa(rec.Version)
	return writeExport(w, f, "ropa-v"+v, v, rec.Digest, func(b *bytes.Buffer) error { return inventory.WriteRecord(b, rec, f) })
}

func (a *API) listRopaVersions(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	vs, err := a.svc.RopaVersions(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
	return nil
}

func (a *API) getDataMap(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	f, err := negotiate(r, inventory.DataMapFormats)
	if err != nil {
		return err
	}
	m, err := a.svc.DataMap(r.Context(), pr)
	if err != nil {
		return err
	}
	return writeExport(w, f, "datamap", "", m.Digest, func(b *bytes.Buffer) error { return inventory.WriteDataMap(b, m, f) })
}

func (a *API) listProcessors(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	ps, err := a.svc.Processors(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"processors": ps})
	return nil
}

func (a *API) putProcessor(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.ProcessorInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := a.svc.PutProcessor(r.Context(), pr, r.PathValue("channel"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) listDPIAs(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	ds, err := a.svc.DPIAs(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"dpias": ds})
	return nil
}

func (a *API) getDPIA(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	f, err := negotiate(r, inventory.RecordFormats)
	if err != nil {
		return err
	}
	d, err := a.svc.DPIA(r.Context(), pr, r.PathValue("purpose"))
	if err != nil {
		return err
	}
	return writeExport(w, f, "dpia-"+d.Purpose, "", d.Digest, func(b *bytes.Buffer) error { return inventory.WriteDPIA(b, d, f) })
}

func (a *API) putDPIA(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.DPIAInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	d, err := a.svc.PutDPIA(r.Context(), pr, r.PathValue("purpose"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) signOffDPIA(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.SignOff
	if err := decode(w, r, &in); err != nil {
		return err
	}
	d, err := a.svc.SignOffDPIA(r.Context(), pr, r.PathValue("purpose"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) listBreaches(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	bs, err := a.svc.Breaches(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"breaches": bs})
	return nil
}

func (a *API) createBreach(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.BreachInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	b, err := a.svc.CreateBreach(r.Context(), pr, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/breaches/"+b.ID)
	writeJSON(w, http.StatusCreated, b)
	return nil
}

func (a *API) getBreach(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	f, err := negotiate(r, inventory.RecordFormats)
	if err != nil {
		return err
	}
	b, c, err := a.svc.BreachReport(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeExport(w, f, "breach-"+b.ID, "", "", func(buf *bytes.Buffer) error { return inventory.WriteBreach(buf, b, c, f) })
}

func (a *API) updateBreach(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	var in service.BreachInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	b, err := a.svc.UpdateBreach(r.Context(), pr, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (a *API) breachAffected(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	with := false
	if v := r.URL.Query().Get("contacts"); v != "" {
		var err error
		if with, err = strconv.ParseBool(v); err != nil {
			return apperr.New(apperr.InvalidRequest, "contacts must be true or false")
		}
	}
	aff, err := a.svc.BreachAffected(r.Context(), pr, r.PathValue("id"), with)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, aff)
	return nil
}

func (a *API) complianceFigures(w http.ResponseWriter, r *http.Request, pr auth.Principal) error {
	f, err := a.svc.ComplianceFigures(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
