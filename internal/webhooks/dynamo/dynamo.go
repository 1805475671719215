// Package dynamo writes webhook projections to DynamoDB tables shaped like
// torchci's (docs/webhooks.md, "DynamoDB tables"): one table
// per projection, named PREFIX + the table name with '-' for '_'
// (torchci-workflow-job, torchci-workflow-run, torchci-issues,
// torchci-pull-request, torchci-push, …), partition key "dynamoKey" holding
// the projection key (OWNER/REPO/ID, …). An item is the projected object's
// attributes plus dynamoKey, ghsync_order_key, ghsync_delivery_id,
// ghsync_updated_at and, for classified workflow jobs, classification.
//
// The ordering guard is kept with a conditional write: an item is replaced
// only when its stored ghsync_order_key is not newer.
//
// The calls go through internal/awsapi (DynamoDB's JSON 1.0 protocol,
// targets "DynamoDB_20120810.<Operation>", attribute values in the
// service's JSON: {"S":…}, {"N":…}, {"M":…}, …), not the SDK's client.
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/awsapi"
)

// Service is DynamoDB for awsapi.New (AWS_ENDPOINT_URL_DYNAMODB and the
// profile's dynamodb endpoint_url apply).
var Service = awsapi.Service{Name: "DynamoDB", SigningName: "dynamodb", SDKID: "DynamoDB", Host: "dynamodb", JSONVersion: "1.0"}

// DefaultPrefix is the table name prefix of the original deployment.
const DefaultPrefix = "torchci-"

// KeyAttribute is the partition key attribute of every table.
const KeyAttribute = "dynamoKey"

// Writer writes projection items. It is safe for concurrent use.
type Writer struct {
	client *awsapi.Client
	prefix string
}

// New returns a Writer calling DynamoDB through client (made with
// awsapi.New for Service) with table name prefix ("" means DefaultPrefix).
func New(client *awsapi.Client, prefix string) (*Writer, error) {
	if client == nil {
		return nil, errors.New("dynamo: nil client")
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Writer{client: client, prefix: prefix}, nil
}

// TableName returns the DynamoDB table of a projection table.
func (w *Writer) TableName(table string) string {
	return TableName(w.prefix, table)
}

// TableName returns the DynamoDB table of a projection table under prefix
// ("" means DefaultPrefix): PREFIX + table with '-' for '_'.
func TableName(prefix, table string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return prefix + strings.ReplaceAll(table, "_", "-")
}

// Item is one projection row to write.
type Item struct {
	Table          string          // projection table (workflow_job, …)
	Key            string          // projection key → dynamoKey
	OrderKey       string          // the ordering guard's key
	DeliveryID     string          // delivery that wrote the row
	UpdatedAt      string          // the row's updated_at
	Object         json.RawMessage // the projected object
	Classification json.RawMessage // workflow_job log classification, or nil
}

// Put writes it unless the stored item has a newer order key. applied is
// false when the guard kept the stored item.
func (w *Writer) Put(ctx context.Context, it Item) (applied bool, err error) {
	av, err := objectAttributes(it.Object)
	if err != nil {
		return false, fmt.Errorf("dynamo item %s %s: %w", it.Table, it.Key, err)
	}
	av[KeyAttribute] = stringAttr(it.Key)
	av["ghsync_order_key"] = stringAttr(it.OrderKey)
	av["ghsync_delivery_id"] = stringAttr(it.DeliveryID)
	av["ghsync_updated_at"] = stringAttr(it.UpdatedAt)
	if len(it.Classification) > 0 {
		c, err := jsonAttribute(it.Classification)
		if err != nil {
			return false, fmt.Errorf("dynamo item %s %s: classification: %w", it.Table, it.Key, err)
		}
		av["classification"] = c
	}
	err = w.call(ctx, "PutItem", putItemInput{
		TableName:                 w.TableName(it.Table),
		Item:                      av,
		ConditionExpression:       "attribute_not_exists(#k) OR #o <= :o",
		ExpressionAttributeNames:  map[string]string{"#k": KeyAttribute, "#o": "ghsync_order_key"},
		ExpressionAttributeValues: map[string]attr{":o": stringAttr(it.OrderKey)},
	}, nil)
	if awsapi.ErrorCode(err) == "ConditionalCheckFailedException" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamo put %s %s: %w", w.TableName(it.Table), it.Key, err)
	}
	return true, nil
}

// SetClassification sets the classification attribute (JSON, null for a
// log that matched no rule) of the existing item table/key, leaving its other
// attributes alone. It never creates an item: a partial item without
// ghsync_order_key would make every later conditional Put of the job fail.
// applied is false when no item exists yet; the caller then relies on the
// job's pending Put carrying the classification.
func (w *Writer) SetClassification(ctx context.Context, table, key string, classification json.RawMessage) (applied bool, err error) {
	c, err := jsonAttribute(classification)
	if err != nil {
		return false, fmt.Errorf("dynamo classification %s %s: %w", table, key, err)
	}
	err = w.call(ctx, "UpdateItem", updateItemInput{
		TableName:                 w.TableName(table),
		Key:                       map[string]attr{KeyAttribute: stringAttr(key)},
		UpdateExpression:          "SET #c = :c",
		ConditionExpression:       "attribute_exists(#k)",
		ExpressionAttributeNames:  map[string]string{"#k": KeyAttribute, "#c": "classification"},
		ExpressionAttributeValues: map[string]attr{":c": c},
	}, nil)
	if awsapi.ErrorCode(err) == "ConditionalCheckFailedException" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamo update %s %s: %w", w.TableName(table), key, err)
	}
	return true, nil
}

// CreateTables creates the tables of the given projection tables (on-demand
// billing, partition key dynamoKey) that do not exist yet and waits (up to
// two minutes each) until they are active. For tests and first setup;
// production tables usually come from the deployment template.
func (w *Writer) CreateTables(ctx context.Context, tables []string) error {
	for _, t := range tables {
		name := w.TableName(t)
		err := w.call(ctx, "CreateTable", map[string]any{
			"TableName":            name,
			"BillingMode":          "PAY_PER_REQUEST",
			"AttributeDefinitions": []map[string]string{{"AttributeName": KeyAttribute, "AttributeType": "S"}},
			"KeySchema":            []map[string]string{{"AttributeName": KeyAttribute, "KeyType": "HASH"}},
		}, nil)
		if err != nil && awsapi.ErrorCode(err) != "ResourceInUseException" { // it exists
			return fmt.Errorf("create dynamo table %s: %w", name, err)
		}
		if err := w.waitActive(ctx, name, 2*time.Minute); err != nil {
			return fmt.Errorf("wait for dynamo table %s: %w", name, err)
		}
	}
	return nil
}

// waitActive polls DescribeTable until the table's status is ACTIVE.
func (w *Writer) waitActive(ctx context.Context, name string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		var out struct{ Table struct{ TableStatus string } }
		if err := w.call(ctx, "DescribeTable", map[string]string{"TableName": name}, &out); err != nil {
			return err
		}
		if out.Table.TableStatus == "ACTIVE" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("status %s after %s: %w", out.Table.TableStatus, limit, context.Cause(ctx))
		case <-time.After(delay):
		}
	}
}

// call calls DynamoDB operation op ("PutItem").
func (w *Writer) call(ctx context.Context, op string, in, out any) error {
	return w.client.CallJSON(ctx, "DynamoDB_20120810."+op, in, out)
}

// The request shapes of PutItem and UpdateItem (the API's member names).
type (
	putItemInput struct {
		TableName                 string
		Item                      map[string]attr
		ConditionExpression       string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]attr
	}
	updateItemInput struct {
		TableName                 string
		Key                       map[string]attr
		UpdateExpression          string
		ConditionExpression       string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]attr
	}
)
