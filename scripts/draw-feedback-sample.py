# Draws samples/feedback-sample-N.jsonl for N = 2, 3 or 4 (run from the repository root with ../shared/data present, or
# LOOPWRIGHT_DATA_DIR): 200 real messages, none of which is in the earlier samples, in the same proportions (70 CFPB
# narratives, 70 X-CI brand-domain tweets, 60 Bitext utterances). Each sample was written once and is committed; this
# script reproduces it byte for byte (`python3 scripts/draw-feedback-sample.py 3`). See samples/SOURCE.md.
#  - 2: seed 2611, disjoint from sample 1; drawn before the general taxonomy 2.1.0 examples were written.
#  - 3: seed 3011, disjoint from samples 1 and 2 by id and by text; drawn after taxonomy 2.2.0 was frozen (its examples
#    and threshold were chosen on the first two samples), so it measures 2.2.0.
#  - 4: seed 4111, disjoint from samples 1-3 by id and by text; drawn and committed before general taxonomy 2.4.0 was
#    written (from samples 1-3 only) and not read until 2.4.0 was frozen, so it measures 2.3.0 against 2.4.0.
import csv, json, os, random, sys

SAMPLES = {
    2: {'seed': 2611, 'previous': ['samples/feedback-sample.jsonl'], 'tweet_day': 22, 'chat_day': 23, 'cfpb_by_text': False},
    3: {'seed': 3011, 'previous': ['samples/feedback-sample.jsonl', 'samples/feedback-sample-2.jsonl'], 'tweet_day': 24, 'chat_day': 25, 'cfpb_by_text': True},
    4: {'seed': 4111, 'previous': ['samples/feedback-sample.jsonl', 'samples/feedback-sample-2.jsonl', 'samples/feedback-sample-3.jsonl'], 'tweet_day': 26, 'chat_day': 27, 'cfpb_by_text': True},
}
n = int(sys.argv[1]) if len(sys.argv) == 2 and sys.argv[1].isdigit() else 0
if n not in SAMPLES:
    sys.exit(f'usage: python3 scripts/draw-feedback-sample.py {"|".join(map(str, SAMPLES))}')
cfg = SAMPLES[n]
random.seed(cfg['seed'])
D = os.environ.get('LOOPWRIGHT_DATA_DIR', '../shared/data') + '/'
prev = [json.loads(l) for f in cfg['previous'] for l in open(f)]
ids = {r['externalId'] for r in prev}; texts = {r['text'] for r in prev}
b = list(csv.DictReader(open(D + 'bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv')))
x = list(csv.DictReader(open(D + 'xci_complaint_severity/xci_dev.csv')))
c = list(csv.DictReader(open(D + 'cfpb_complaints/cfpb_multi_product_sample_2020.csv')))
tiers = ['free', 'standard', 'premium', 'enterprise']
out = []
cf = [r for r in c if len((r['Consumer complaint narrative'] or '').strip()) > 30 and f"cfpb-{r['Complaint ID']}" not in ids
      and not (cfg['cfpb_by_text'] and r['Consumer complaint narrative'] in texts)]
for r in random.sample(cf, 70):
    y, m, d = r['Date received'].split('/')
    out.append({'source': 'cfpb', 'externalId': f"cfpb-{r['Complaint ID']}", 'text': r['Consumer complaint narrative'], 'receivedAt': f'{y}-{int(m):02d}-{int(d):02d}T12:00:00Z', 'channel': 'email', 'product': r['Product']})
xs = [r for r in x if r['domain'] not in ('random_tweet', 'random_reply') and f"xci-{r['id']}" not in ids and r['tweet'] not in texts]
for r in random.sample(xs, 70):
    out.append({'source': 'twitter', 'externalId': f"xci-{r['id']}", 'text': r['tweet'], 'receivedAt': f"2026-11-{cfg['tweet_day']}T{random.randint(8, 17):02d}:{random.randint(0, 59):02d}:00Z", 'channel': 'social', 'customer': {'id': f"tw-{r['id']}", 'tier': random.choice(tiers)}})
seen = set(texts)
bs = []
for i, r in enumerate(b):
    if r['instruction'] in seen: continue
    seen.add(r['instruction']); bs.append((i, r))
for i, r in random.sample(bs, 60):
    out.append({'source': 'chat', 'externalId': f'bitext-r{i}', 'text': r['instruction'], 'receivedAt': f"2026-11-{cfg['chat_day']}T{random.randint(8, 17):02d}:{random.randint(0, 59):02d}:00Z", 'channel': 'chat', 'customer': {'id': f'cust-{random.randint(1000, 9999)}', 'tier': random.choice(tiers)}})
random.shuffle(out)
assert len({r['externalId'] for r in out}) == 200 and not ({r['externalId'] for r in out} & ids)
assert not cfg['cfpb_by_text'] or not ({r['text'] for r in out} & texts)
with open(f'samples/feedback-sample-{n}.jsonl', 'w') as f:
    for r in out: f.write(json.dumps(r, ensure_ascii=False) + '\n')
print(len(out))
