#!/usr/bin/env python3
"""Record torch.utils.data's random draws: test/fixtures/data/sampler.json.

Run with the Debian PyTorch (1.13, built without MKL):  /usr/bin/python3 scripts/data_fixtures.py
The output is deterministic.  The TypeScript tests (test/data/sampler.test.ts,
dataloader.test.ts, dataset.test.ts) check that tensorgrad's samplers, DataLoader
shuffling and random_split draw exactly these indices for the same seeds.

Each case records what to construct and the indices PyTorch produced:
  randperm:   torch.randperm(n, generator=torch.Generator().manual_seed(seed))
  random_sampler: list(RandomSampler(range(n), replacement, num_samples, generator=g))
                  ("default": no generator, after torch.manual_seed(seed))
  subset_random_sampler, weighted: likewise
  multinomial: torch.multinomial(weights (float64), num_samples, replacement, generator=g)
  dataloader: the flattened batches of DataLoader(range(n), batch_size, shuffle=True, ...)
              for two consecutive epochs
  random_split: the indices of each Subset
"""

import json
import os

import torch
from torch.utils.data import (BatchSampler, DataLoader, RandomSampler, SubsetRandomSampler,
                              WeightedRandomSampler, random_split)

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'data', 'sampler.json')


def gen(seed):
    return torch.Generator().manual_seed(seed)


def main():
    out = {}

    out['randperm'] = [
        {'n': n, 'seed': s, 'perm': torch.randperm(n, generator=gen(s)).tolist()}
        for n, s in [(1, 0), (2, 1), (10, 0), (10, 42), (100, 7), (1000, 3)]
    ]

    rs = []
    for n, repl, num, seed in [(10, False, None, 0), (10, False, 25, 1), (7, False, 3, 2),
                               (10, True, None, 0), (10, True, 70, 5), (1000, True, 33, 9)]:
        sampler = RandomSampler(range(n), replacement=repl, num_samples=num, generator=gen(seed))
        rs.append({'n': n, 'replacement': repl, 'numSamples': num, 'seed': seed,
                   'epochs': [list(sampler), list(sampler)]})
    out['random_sampler'] = rs

    # No generator: RandomSampler seeds a fresh generator from the default one each epoch.
    dflt = []
    for n, repl, num, seed in [(10, False, None, 0), (12, True, 40, 3)]:
        torch.manual_seed(seed)
        sampler = RandomSampler(range(n), replacement=repl, num_samples=num)
        e1 = list(sampler)
        e2 = list(sampler)
        after = torch.rand(3, dtype=torch.float64).tolist()  # the default generator's state afterwards
        dflt.append({'n': n, 'replacement': repl, 'numSamples': num, 'seed': seed,
                     'epochs': [e1, e2], 'randAfter': after})
    out['random_sampler_default'] = dflt

    out['subset_random_sampler'] = [
        {'indices': idx, 'seed': s, 'order': list(SubsetRandomSampler(idx, generator=gen(s)))}
        for idx, s in [([5, 3, 9, 1, 7], 0), (list(range(20, 40)), 11)]
    ]

    mn = []
    for w, num, repl, seed in [([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, True, 0),
                               ([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 1, True, 1),
                               ([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5, False, 0),
                               ([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 1, False, 4),
                               ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 40, True, 123),
                               ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10, False, 123),
                               ([0.25, 0, 0.5, 0.25], 100, True, 2)]:
        t = torch.tensor(w, dtype=torch.float64)
        r = torch.multinomial(t, num, repl, generator=gen(seed)).tolist()
        g = gen(seed)
        ws = list(WeightedRandomSampler(w, num, replacement=repl, generator=g))
        assert r == ws
        mn.append({'weights': w, 'numSamples': num, 'replacement': repl, 'seed': seed, 'samples': r})
    out['multinomial'] = mn

    # Exponential draws behind multinomial without replacement (CPU, no MKL).
    out['exponential'] = {'seed': 5, 'values': torch.empty(6, dtype=torch.float64).exponential_(generator=gen(5)).tolist()}

    dl = []
    for n, bs, drop, seed, use_gen in [(10, 3, False, 0, True), (10, 3, True, 1, True),
                                       (10, 4, False, 0, False), (23, 5, False, 8, True)]:
        if use_gen:
            loader = DataLoader(list(range(n)), batch_size=bs, shuffle=True, drop_last=drop, generator=gen(seed))
        else:
            torch.manual_seed(seed)
            loader = DataLoader(list(range(n)), batch_size=bs, shuffle=True, drop_last=drop)
        epochs = [[b.tolist() for b in loader] for _ in range(2)]
        dl.append({'n': n, 'batchSize': bs, 'dropLast': drop, 'seed': seed, 'generator': use_gen,
                   'len': len(loader), 'epochs': epochs})
    out['dataloader'] = dl

    sp = []
    for n, lengths, seed in [(10, [3, 7], 42), (30, [0.3, 0.3, 0.4], 42), (10, [0.33, 0.33, 0.34], 0),
                             (7, [0.5, 0.5], 1), (5, [0.1, 0.2, 0.3, 0.4], 3)]:
        parts = random_split(range(n), lengths, generator=gen(seed))
        sp.append({'n': n, 'lengths': lengths, 'seed': seed, 'splits': [list(p.indices) for p in parts]})
    out['random_split'] = sp

    bsamp = list(BatchSampler(range(10), 3, False))
    out['batch_sampler'] = {'n': 10, 'batchSize': 3, 'batches': bsamp,
                            'dropLast': list(BatchSampler(range(10), 3, True))}

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    print('wrote', os.path.relpath(OUT))


if __name__ == '__main__':
    main()
