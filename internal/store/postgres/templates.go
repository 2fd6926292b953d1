package postgres

import (
	"context"

	"github.com/consentgate/consentgate/internal/consent"
	"github.com/consentgate/consentgate/internal/store"
)

const (
	msgTemplateCols  = `tenant_id, name, channel, language, subject, body, created_at`
	qCreateMsgTempl  = `INSERT INTO message_templates (` + msgTemplateCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	qListMsgTempls   = `SELECT ` + msgTemplateCols + ` FROM message_templates WHERE tenant_id = $1 ORDER BY name, channel, language`
	qGetMsgTempls    = `SELECT ` + msgTemplateCols + ` FROM message_templates WHERE tenant_id = $1 AND name = $2 ORDER BY channel, language`
	qDeleteMsgTempls = `DELETE FROM message_templates WHERE tenant_id = $1 AND name = $2
		AND ($3::text = '' OR channel = $3) AND ($4::text = '' OR language = $4)`
)

func (t *tx) CreateTemplate(ctx context.Context, m *store.Template) error {
	_, err := t.exec(ctx, qCreateMsgTempl, m.TenantID, m.Name, string(m.Channel), m.Language, m.Subject, m.Body, us(m.CreatedAt))
	return err
}

func scanMsgTemplate(r row) (*store.Template, error) {
	var m store.Template
	var ch string
	var created int64
	if err := r.Scan(&m.TenantID, &m.Name, &ch, &m.Language, &m.Subject, &m.Body, &created); err != nil {
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
	tag, err := t.exec(ctx, qDeleteMsgTempls, tenantID, name, string(ch), language)
	if err := oneRow(tag, err); err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
