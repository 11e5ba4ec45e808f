# Draws samples/feedback-sample-2.jsonl (run from the repository root with ../shared/data present): 200 real
# messages none of which is in samples/feedback-sample.jsonl, in the same proportions (70 CFPB narratives, 70 X-CI
# brand-domain tweets, 60 Bitext utterances). Written once, before the general taxonomy 2.1.0 examples; see samples/SOURCE.md.
import csv, json, os, random
random.seed(2611)
D = os.environ.get('LOOPWRIGHT_DATA_DIR', '../shared/data') + '/'
s1 = [json.loads(l) for l in open('samples/feedback-sample.jsonl')]
ids1 = {r['externalId'] for r in s1}; texts1 = {r['text'] for r in s1}
b = list(csv.DictReader(open(D + 'bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv')))
x = list(csv.DictReader(open(D + 'xci_complaint_severity/xci_dev.csv')))
c = list(csv.DictReader(open(D + 'cfpb_complaints/cfpb_multi_product_sample_2020.csv')))
tiers = ['free', 'standard', 'premium', 'enterprise']
out = []
cf = [r for r in c if len((r['Consumer complaint narrative'] or '').strip()) > 30 and f"cfpb-{r['Complaint ID']}" not in ids1]
for r in random.sample(cf, 70):
    y, m, d = r['Date received'].split('/')
    out.append({'source': 'cfpb', 'externalId': f"cfpb-{r['Complaint ID']}", 'text': r['Consumer complaint narrative'], 'receivedAt': f'{y}-{int(m):02d}-{int(d):02d}T12:00:00Z', 'channel': 'email', 'product': r['Product']})
xs = [r for r in x if r['domain'] not in ('random_tweet', 'random_reply') and f"xci-{r['id']}" not in ids1 and r['tweet'] not in texts1]
for r in random.sample(xs, 70):
    out.append({'source': 'twitter', 'externalId': f"xci-{r['id']}", 'text': r['tweet'], 'receivedAt': f'2026-11-22T{random.randint(8, 17):02d}:{random.randint(0, 59):02d}:00Z', 'channel': 'social', 'customer': {'id': f"tw-{r['id']}", 'tier': random.choice(tiers)}})
seen = set(texts1)
bs = []
for i, r in enumerate(b):
    if r['instruction'] in seen: continue
    seen.add(r['instruction']); bs.append((i, r))
for i, r in random.sample(bs, 60):
    out.append({'source': 'chat', 'externalId': f'bitext-r{i}', 'text': r['instruction'], 'receivedAt': f'2026-11-23T{random.randint(8, 17):02d}:{random.randint(0, 59):02d}:00Z', 'channel': 'chat', 'customer': {'id': f'cust-{random.randint(1000, 9999)}', 'tier': random.choice(tiers)}})
random.shuffle(out)
with open('samples/feedback-sample-2.jsonl', 'w') as f:
    for r in out: f.write(json.dumps(r, ensure_ascii=False) + '\n')
print(len(out))
