#!/usr/bin/env python3
"""Regenerates fixtures/pandalm-50.jsonl and fixtures/pandalm-50.votes.jsonl from ../shared/data/pandalm."""
import collections, json, os, sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../../shared/data/pandalm/')
out = os.path.join(os.path.dirname(__file__), '../fixtures/')
ts = json.load(open(os.path.join(src, 'testset-v1.json')))
gpt = {r['idx']: r for r in json.load(open(os.path.join(src, 'gpt-3.5-turbo-testset-v1.json')))}
pl = {r['idx']: r for r in json.load(open(os.path.join(src, 'pandalm-7b-testset-v1.json')))}
m = {'0': 'tie', '1': 'A', '2': 'B'}
items, votes = [], []
for r in ts[::20][:50]:
    anns = [m[str(r[f'annotator{i}'])] for i in (1, 2, 3)]
    top = collections.Counter(anns).most_common()
    lab = top[0][0] if len(top) == 1 or top[0][1] > top[1][1] else 'tie'
    prompt = r['instruction'] + (('\n\n' + r['input']) if r.get('input') else '')
    it = {'id': str(r['idx']), 'prompt': prompt, 'response_a': r['response1'], 'response_b': r['response2'],
          'label': lab, 'labels': [{'annotator': f'annotator{i}', 'label': a} for i, a in zip((1, 2, 3), anns)],
          'meta': {'motivation_app': r.get('motivation_app'), 'cmp_key': r.get('cmp_key')}}
    if r.get('cmp_key'):
        it['model_a'], it['model_b'] = r['cmp_key'].split('_', 1)
    items.append(it)
    g = str(gpt[r['idx']]['gpt_result']).strip()
    gv = {'1': 'A', '2': 'B', 'Tie': 'tie', 'tie': 'tie'}.get(g)
    votes.append({'item': str(r['idx']), 'judge': 'gpt-3.5-turbo', 'protocol': 'pairwise', 'order': 'AB',
                  'verdict': gv, 'status': 'ok' if gv else 'abstain', 'raw': g})
    p = pl[r['idx']]['pandalm_result']
    pv = {0: 'tie', 1: 'A', 2: 'B'}.get(p)
    votes.append({'item': str(r['idx']), 'judge': 'pandalm-7b', 'protocol': 'pairwise', 'order': 'AB',
                  'verdict': pv, 'status': 'ok' if pv else 'abstain', 'raw': str(p)})
with open(out + 'pandalm-50.jsonl', 'w') as f:
    for it in items:
        f.write(json.dumps(it, ensure_ascii=False, sort_keys=True) + '\n')
with open(out + 'pandalm-50.votes.jsonl', 'w') as f:
    for v in votes:
        f.write(json.dumps({k: x for k, x in v.items() if x is not None}, ensure_ascii=False, sort_keys=True) + '\n')
