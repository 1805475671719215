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
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DefaultPrefix is the table name prefix of the original deployment.
const DefaultPrefix = "torchci-"

// KeyAttribute is the partition key attribute of every table.
const KeyAttribute = "dynamoKey"

// Writer writes projection items. It is safe for concurrent use.
type Writer struct {
	client *dynamodb.Client
	prefix string
}

// New returns a Writer for client with table name prefix ("" means DefaultPrefix).
func New(client *dynamodb.Client, prefix string) (*Writer, error) {
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
	av[KeyAttribute] = &types.AttributeValueMemberS{Value: it.Key}
	av["ghsync_order_key"] = &types.AttributeValueMemberS{Value: it.OrderKey}
	av["ghsync_delivery_id"] = &types.AttributeValueMemberS{Value: it.DeliveryID}
	av["ghsync_updated_at"] = &types.AttributeValueMemberS{Value: it.UpdatedAt}
	if len(it.Classification) > 0 {
		c, err := jsonAttribute(it.Classification)
		if err != nil {
			return false, fmt.Errorf("dynamo item %s %s: classification: %w", it.Table, it.Key, err)
		}
		av["classification"] = c
	}
	_, err = w.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(w.TableName(it.Table)),
		Item:                      av,
		ConditionExpression:       aws.String("attribute_not_exists(#k) OR #o <= :o"),
		ExpressionAttributeNames:  map[string]string{"#k": KeyAttribute, "#o": "ghsync_order_key"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: it.OrderKey}},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
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
	_, err = w.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(w.TableName(table)),
		Key:                       map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:          aws.String("SET #c = :c"),
		ConditionExpression:       aws.String("attribute_exists(#k)"),
		ExpressionAttributeNames:  map[string]string{"#k": KeyAttribute, "#c": "classification"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": c},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamo update %s %s: %w", w.TableName(table), key, err)
	}
	return true, nil
}

// CreateTables creates the tables of the given projection tables (on-demand
// billing, partition key dynamoKey) that do not exist yet and waits until
// they are active. For tests and first setup; production tables usually come
// from the deployment template.
func (w *Writer) CreateTables(ctx context.Context, tables []string) error {
	for _, t := range tables {
		name := w.TableName(t)
		_, err := w.client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(KeyAttribute), KeyType: types.KeyTypeHash}},
		})
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create dynamo table %s: %w", name, err)
		}
		if err := dynamodb.NewTableExistsWaiter(w.client).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
			return fmt.Errorf("wait for dynamo table %s: %w", name, err)
		}
	}
	return nil
}
