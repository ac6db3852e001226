-- The schema of trade-monitor 0.1.0 (commit 019e3a2), sqlite: what `db upgrade` starts from.

CREATE TABLE commitment (
	id VARCHAR NOT NULL, 
	status VARCHAR NOT NULL, 
	status_since DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	archived BOOLEAN NOT NULL, 
	watched_since DATETIME, 
	progress_value FLOAT, 
	progress_at DATETIME, 
	progress_link VARCHAR, 
	progress_alerted INTEGER NOT NULL, 
	pace_alerted BOOLEAN NOT NULL, 
	extended_until DATE, 
	new_due DATE, 
	last_evidence_at DATETIME, 
	last_evidence_link VARCHAR, 
	PRIMARY KEY (id)
);

CREATE TABLE source (
	id INTEGER NOT NULL, 
	name VARCHAR NOT NULL, 
	url VARCHAR NOT NULL, 
	configured_url VARCHAR NOT NULL, 
	official BOOLEAN NOT NULL, 
	enabled BOOLEAN NOT NULL, 
	disabled_reason VARCHAR, 
	etag VARCHAR, 
	last_modified VARCHAR, 
	body_hash VARCHAR, 
	interval_seconds FLOAT NOT NULL, 
	next_poll_at DATETIME, 
	lease_until DATETIME, 
	last_attempt_at DATETIME, 
	last_success_at DATETIME, 
	consecutive_failures INTEGER NOT NULL, 
	failing_since DATETIME, 
	error_kind VARCHAR, 
	error_message VARCHAR, 
	failure_alerted BOOLEAN NOT NULL, 
	entries_seen INTEGER NOT NULL, 
	polls INTEGER NOT NULL, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_source_name ON source (name);

CREATE INDEX ix_source_next_poll_at ON source (next_poll_at);

CREATE TABLE entry (
	id INTEGER NOT NULL, 
	source_id INTEGER NOT NULL, 
	dedup_key VARCHAR NOT NULL, 
	guid VARCHAR NOT NULL, 
	link VARCHAR NOT NULL, 
	title TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	published DATETIME, 
	fetched_at DATETIME NOT NULL, 
	content_hash VARCHAR NOT NULL, 
	publisher VARCHAR NOT NULL, 
	story_key VARCHAR NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (source_id, dedup_key), 
	FOREIGN KEY(source_id) REFERENCES source (id)
);

CREATE INDEX ix_entry_fetched_at ON entry (fetched_at);

CREATE INDEX ix_entry_source_id ON entry (source_id);

CREATE INDEX ix_entry_story_key ON entry (story_key);

CREATE TABLE status_change (
	id INTEGER NOT NULL, 
	commitment_id VARCHAR NOT NULL, 
	from_status VARCHAR NOT NULL, 
	to_status VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR NOT NULL, 
	reason TEXT NOT NULL, 
	evidence_ids VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(commitment_id) REFERENCES commitment (id)
);

CREATE INDEX ix_status_change_commitment_id ON status_change (commitment_id);

CREATE TABLE alert (
	id INTEGER NOT NULL, 
	"key" VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	severity VARCHAR NOT NULL, 
	commitment_id VARCHAR, 
	change_id INTEGER, 
	route VARCHAR NOT NULL, 
	tags VARCHAR NOT NULL, 
	subject VARCHAR NOT NULL, 
	body TEXT NOT NULL, 
	payload TEXT NOT NULL, 
	mode VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at DATETIME, 
	lease_until DATETIME, 
	last_error VARCHAR, 
	created_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	body_text TEXT NOT NULL, 
	body_html TEXT NOT NULL, 
	in_digest BOOLEAN NOT NULL, 
	folded_into INTEGER, 
	lease_owner VARCHAR, 
	first_attempt_at DATETIME, 
	held_reason VARCHAR, 
	PRIMARY KEY (id), 
	UNIQUE ("key"), 
	FOREIGN KEY(change_id) REFERENCES status_change (id)
);

CREATE INDEX ix_alert_commitment_id ON alert (commitment_id);

CREATE INDEX ix_alert_first_attempt_at ON alert (first_attempt_at);

CREATE INDEX ix_alert_next_attempt_at ON alert (next_attempt_at);

CREATE INDEX ix_alert_state ON alert (state);

CREATE TABLE evidence (
	id INTEGER NOT NULL, 
	entry_id INTEGER, 
	commitment_id VARCHAR NOT NULL, 
	signal VARCHAR NOT NULL, 
	confidence FLOAT NOT NULL, 
	sentence TEXT NOT NULL, 
	cue VARCHAR NOT NULL, 
	explanation VARCHAR NOT NULL, 
	publisher VARCHAR NOT NULL, 
	official BOOLEAN NOT NULL, 
	official_party VARCHAR, 
	story_key VARCHAR NOT NULL, 
	link VARCHAR NOT NULL, 
	title VARCHAR NOT NULL, 
	source_name VARCHAR NOT NULL, 
	published DATETIME, 
	quantity_value FLOAT, 
	quantity_unit VARCHAR, 
	quantity_cumulative BOOLEAN NOT NULL, 
	new_date DATE, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (entry_id, commitment_id), 
	FOREIGN KEY(entry_id) REFERENCES entry (id), 
	FOREIGN KEY(commitment_id) REFERENCES commitment (id)
);

CREATE INDEX ix_evidence_commitment_signal ON evidence (commitment_id, signal);

CREATE INDEX ix_evidence_entry_id ON evidence (entry_id);

CREATE TABLE delivery (
	id INTEGER NOT NULL, 
	alert_id INTEGER NOT NULL, 
	target_hash VARCHAR NOT NULL, 
	target VARCHAR NOT NULL, 
	state VARCHAR NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error VARCHAR, 
	sent_at DATETIME, 
	attempt_id VARCHAR, 
	sending_at DATETIME, 
	redeliveries INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (alert_id, target_hash), 
	FOREIGN KEY(alert_id) REFERENCES alert (id)
);

CREATE INDEX ix_delivery_alert_id ON delivery (alert_id);

CREATE TABLE digest_item (
	id INTEGER NOT NULL, 
	digest_kind VARCHAR NOT NULL, 
	alert_id INTEGER NOT NULL, 
	digest_alert_id INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (digest_kind, alert_id), 
	FOREIGN KEY(alert_id) REFERENCES alert (id), 
	FOREIGN KEY(digest_alert_id) REFERENCES alert (id)
);

CREATE INDEX ix_digest_item_alert_id ON digest_item (alert_id);
