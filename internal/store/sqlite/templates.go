package sqlite

import (
	"context"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

const (
	msgTemplateCols  = `tenant_id, name, channel, language, subject, body, created_at`
	qCreateMsgTempl  = `INSERT INTO message_templates (` + msgTemplateCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	qListMsgTempls   = `SELECT ` + msgTemplateCols + ` FROM message_templates WHERE tenant_id = ? ORDER BY name, channel, language`
	qGetMsgTempls    = `SELECT ` + msgTemplateCols + ` FROM message_templates WHERE tenant_id = ? AND name = ? ORDER BY channel, language`
	qDeleteMsgTempls = `DELETE FROM message_templates WHERE tenant_id = ? AND name = ? AND (? = '' OR channel = ?) AND (? = '' OR language = ?)`
)

func (t *tx) CreateTemplate(ctx context.Context, m *store.Template) error {
	_, err := t.exec(ctx, qCreateMsgTempl, m.TenantID, m.Name, string(m.Channel), m.Language, m.Subject, m.Body, us(m.CreatedAt))
	return err
}

func scanMsgTemplate(row scanner) (*store.Template, error) {
	var m store.Template
	var ch string
	var created int64
	if err := row.Scan(&m.TenantID, &m.Name, &ch, &m.Language, &m.Subject, &m.Body, &created); err != nil {
		return nil, mapErr(err)
	}
	m.Channel, m.CreatedAt = consent.Channel(ch), fromUS(created)
	return &m, nil
}

func (t *tx) ListTemplates(ctx context.Context, tenantID string) ([]*store.Template, error) {
	return queryAll(ctx, t, qListMsgTempls, scanMsgTemplate, tenantID)
}

func (t *tx) GetTemplates(ctx context.Context, tenantID, name string) ([]*store.Template, error) {
	return queryAll(ctx, t, qGetMsgTempls, scanMsgTemplate, tenantID, name)
}

func (t *tx) DeleteTemplates(ctx context.Context, tenantID, name string, ch consent.Channel, language string) (int, error) {
	r, err := t.exec(ctx, qDeleteMsgTempls, tenantID, name, string(ch), string(ch), language, language)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, mapErr(err)
	}
	if n == 0 {
		return 0, store.ErrNotFound
	}
	return int(n), nil
}
