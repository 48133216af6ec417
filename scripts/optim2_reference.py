"""Independent float64 reference implementations of the optimizers of src/optim part 2.

Run with Debian's Python (PyTorch 1.13 + NumPy):

    /usr/bin/python3 scripts/optim2_reference.py

PyTorch 1.13 has none of these optimizers, so each one is written here from its paper's
pseudo-code (or PyTorch >= 2.5's documented algorithm: Adafactor, Muon), in NumPy float64, in
the most literal form rather than the in-place form tensorgrad uses (Schedule-Free keeps x, y
and z explicitly; Shampoo takes exact inverse roots by eigendecomposition where tensorgrad uses
the coupled Newton iteration; K-FAC inverts with numpy.linalg.inv; the diagonal Fisher uses real
per-sample backward passes; Newton-CG multiplies by the explicit Hessian). Gradients come from
torch.autograd in float64; everything else is NumPy.

Writes test/fixtures/optim2/*.json:
- problems.json: the problems (data and initial parameters):
  mlp (3-5-2 tanh MLP, MSE over 12 samples; W1, b1, W2, b2), mlp2d (the same without biases),
  rosenbrock (x[1], y[1]), quadratic (4-D, condition number 1e3; a[2], c[2]) and logreg
  (logistic loss over 10 samples plus 0.05*(|w|^2 + b^2) in every sample's loss; w[3], b[1]) and
  cube (a weighted quadratic in an order-3 tensor W[2, 3, 4] coupled to a scalar s[]).
- <optimizer>.json: {"configs": [{"name", "problem", "options", "groups"?, "indices"?,
  "trajectory": [[params flattened after step 1], ...], "final"?}]}. Options are tensorgrad's
  camelCase options; "groups" are per-group overrides for the first and second half of the
  parameter list.
"""
import json
import math
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'optim2')
STEPS = 12


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        json.dump(data, f, separators=(',', ':'), allow_nan=False)
    print(f'wrote {name}: {os.path.getsize(path) / 1024:.1f} KiB')


# ------------------------------------------------------------------ problems

def make_problems():
    rng = np.random.default_rng(2024)
    X = rng.standard_normal((12, 3))
    Y = rng.standard_normal((12, 2))
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = q @ np.diag(np.logspace(0, 3, 4)) @ q.T
    A = (A + A.T) / 2
    Xl = rng.standard_normal((10, 3))
    yl = np.where(rng.standard_normal(10) > 0, 1.0, -1.0)
    C = rng.standard_normal((2, 3, 4))
    S = rng.uniform(0.5, 2.0, (2, 3, 4))
    cube_init = rng.standard_normal((2, 3, 4))
    mlp_init = [rng.standard_normal((5, 3)) * 0.5, rng.standard_normal(5) * 0.1, rng.standard_normal((2, 5)) * 0.5, rng.standard_normal(2) * 0.1]
    return {
        'mlp': {'X': X.tolist(), 'Y': Y.tolist(), 'init': [a.tolist() for a in mlp_init]},
        'mlp2d': {'X': X.tolist(), 'Y': Y.tolist(), 'init': [mlp_init[0].tolist(), mlp_init[2].tolist()]},
        'rosenbrock': {'init': [[-1.2], [1.0]]},
        'quadratic': {'A': A.tolist(), 'b': rng.standard_normal(4).tolist(), 'init': [rng.standard_normal(2).tolist(), rng.standard_normal(2).tolist()]},
        'logreg': {'X': Xl.tolist(), 'y': yl.tolist(), 'init': [(rng.standard_normal(3) * 0.3).tolist(), [0.1]]},
        'cube': {'C': C.tolist(), 'S': S.tolist(), 'init': [cube_init.tolist(), 0.7]},
    }


PROBLEMS = make_problems()
LOGREG_L2 = 0.1   # the logreg problem's ridge term (every sample's loss carries it)


def torch_loss(name, ts, indices=None):
    P = PROBLEMS[name]
    if name in ('mlp', 'mlp2d'):
        X, Y = torch.tensor(P['X']), torch.tensor(P['Y'])
        if name == 'mlp':
            W1, b1, W2, b2 = ts
            h = torch.tanh(X @ W1.T + b1)
            return ((h @ W2.T + b2 - Y) ** 2).mean()
        W1, W2 = ts
        return ((torch.tanh(X @ W1.T) @ W2.T - Y) ** 2).mean()
    if name == 'rosenbrock':
        x, y = ts
        return ((1 - x) ** 2 + 100 * (y - x ** 2) ** 2).sum()
    if name == 'quadratic':
        A, b = torch.tensor(P['A']), torch.tensor(P['b'])
        x = torch.cat(ts)
        return 0.5 * x @ A @ x - b @ x
    if name == 'logreg':
        X, y = torch.tensor(P['X']), torch.tensor(P['y'])
        if indices is not None:
            X, y = X[indices], y[indices]
        w, b = ts
        return torch.nn.functional.softplus(-y * (X @ w + b)).mean() + 0.5 * LOGREG_L2 * ((w ** 2).sum() + (b ** 2).sum())
    if name == 'cube':
        W, s = ts
        C, S = torch.tensor(P['C']), torch.tensor(P['S'])
        return (S * (W - C) ** 2).mean() + torch.tanh(W.sum() * s) ** 2 + (s - 0.5) ** 2
    raise KeyError(name)


def init_params(name):
    return [np.array(v, dtype=np.float64) for v in PROBLEMS[name]['init']]


def loss_and_grads(name, params, indices=None):
    ts = [torch.tensor(p, requires_grad=True) for p in params]
    loss = torch_loss(name, ts, indices)
    gs = torch.autograd.grad(loss, ts)
    return loss.item(), [g.numpy().copy() for g in gs]


def loss_value(name, params):
    with torch.no_grad():
        return torch_loss(name, [torch.tensor(p) for p in params]).item()


def flat(params):
    return np.concatenate([p.reshape(-1) for p in params]).tolist()


def group_options(n, options, defaults, groups):
    """Each parameter's options: defaults, the config's options, its group's overrides."""
    base = {**defaults, **options}
    if not groups:
        return [base] * n
    half = (n + 1) // 2
    return [{**base, **groups[0 if i < half else 1]} for i in range(n)]


def run(problem, options, defaults, groups, update, steps=STEPS):
    """Generic per-parameter loop: update(i, p, g, state, o, t) -> new p."""
    params = init_params(problem)
    opts = group_options(len(params), options, defaults, groups)
    states = [dict() for _ in params]
    traj = []
    for t in range(1, steps + 1):
        _, grads = loss_and_grads(problem, params)
        params = [update(p, g, states[i], opts[i], t) for i, (p, g) in enumerate(zip(params, grads))]
        traj.append(flat(params))
    return traj


def config(name, problem, options, traj, groups=None, **extra):
    out = {'name': name, 'problem': problem, 'options': options, 'trajectory': traj}
    if groups:
        out['groups'] = groups
    out.update(extra)
    return out


# ------------------------------------------------------------------ Lion (Chen et al. 2023, Algorithm 2)

LION = {'lr': 1e-4, 'betas': [0.9, 0.99], 'weightDecay': 0.0, 'maximize': False}


def lion_update(p, g, s, o, t):
    b1, b2 = o['betas']
    if o['maximize']:
        g = -g
    m = s.get('m', np.zeros_like(p))
    c = b1 * m + (1 - b1) * g
    p = p - o['lr'] * (np.sign(c) + o['weightDecay'] * p)
    s['m'] = b2 * m + (1 - b2) * g
    return p


def lion_fixtures():
    cases = [
        ('default lr=1e-2', 'mlp', {'lr': 1e-2}, None),
        ('weight decay, betas', 'mlp', {'lr': 3e-3, 'betas': [0.95, 0.98], 'weightDecay': 0.5}, None),
        ('maximize', 'mlp', {'lr': 1e-2, 'maximize': True}, None),
        ('groups', 'mlp', {'lr': 1e-2}, [{'lr': 2e-2}, {'weightDecay': 1.0}]),
    ]
    write('lion.json', {'configs': [config(n, pb, o, run(pb, o, LION, g, lion_update), g) for n, pb, o, g in cases]})


# ------------------------------------------------------------------ LAMB (You et al. 2019, Algorithm 2)

LAMB = {'lr': 1e-3, 'betas': [0.9, 0.999], 'eps': 1e-6, 'weightDecay': 0.0, 'biasCorrection': True, 'clampValue': None, 'maximize': False}


def lamb_update(p, g, s, o, t):
    b1, b2 = o['betas']
    if o['maximize']:
        g = -g
    m = s['m'] = b1 * s.get('m', 0.0) + (1 - b1) * g
    v = s['v'] = b2 * s.get('v', 0.0) + (1 - b2) * g * g
    mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if o['biasCorrection'] else (m, v)
    r = mh / (np.sqrt(vh) + o['eps'])
    u = r + o['weightDecay'] * p
    wn = np.linalg.norm(p)
    if o['clampValue'] is not None:
        wn = min(wn, o['clampValue'])
    un = np.linalg.norm(u)
    ratio = wn / un if wn > 0 and un > 0 else 1.0
    return p - o['lr'] * ratio * u


def lamb_fixtures():
    cases = [
        ('default lr=1e-2', 'mlp', {'lr': 1e-2}, None),
        ('weight decay, clamp', 'mlp', {'lr': 2e-2, 'weightDecay': 0.1, 'clampValue': 0.5}, None),
        ('no bias correction, maximize', 'mlp', {'lr': 1e-2, 'biasCorrection': False, 'maximize': True}, None),
        ('groups', 'mlp', {'lr': 1e-2}, [{'lr': 3e-2, 'weightDecay': 0.01}, {'betas': [0.8, 0.99]}]),
    ]
    write('lamb.json', {'configs': [config(n, pb, o, run(pb, o, LAMB, g, lamb_update), g) for n, pb, o, g in cases]})


# ------------------------------------------------------------------ LARS (You, Gitman & Ginsburg 2017, Algorithm 1)

LARS = {'lr': 0.1, 'momentum': 0.9, 'weightDecay': 0.0, 'trustCoefficient': 1e-3, 'eps': 0.0, 'trustAdaptation': True, 'maximize': False}


def lars_update(p, g, s, o, t):
    if o['maximize']:
        g = -g
    beta = o['weightDecay']
    wn, gn = np.linalg.norm(p), np.linalg.norm(g)
    local = o['trustCoefficient'] * wn / (gn + beta * wn + o['eps']) if o['trustAdaptation'] and wn > 0 and gn > 0 else 1.0
    v = s['v'] = o['momentum'] * s.get('v', 0.0) + o['lr'] * local * (g + beta * p)
    return p - v


def lars_fixtures():
    cases = [
        ('lr=5', 'mlp', {'lr': 5.0}, None),
        ('weight decay, eta', 'mlp', {'lr': 2.0, 'weightDecay': 1e-3, 'trustCoefficient': 0.01, 'momentum': 0.8}, None),
        ('maximize', 'mlp', {'lr': 5.0, 'maximize': True}, None),
        ('groups: no adaptation for the second half', 'mlp', {'lr': 5.0}, [{'weightDecay': 1e-2}, {'trustAdaptation': False, 'lr': 0.05}]),
    ]
    write('lars.json', {'configs': [config(n, pb, o, run(pb, o, LARS, g, lars_update), g) for n, pb, o, g in cases]})


# ------------------------------------------------------------------ Adafactor (PyTorch 2.5's documented algorithm)

ADAFACTOR = {'lr': 1e-2, 'beta2Decay': -0.8, 'eps': [None, 1e-3], 'd': 1.0, 'weightDecay': 0.0, 'maximize': False}


def adafactor_update(p, g, s, o, t):
    eps1 = o['eps'][0] if o['eps'][0] is not None else np.finfo(np.float64).eps
    eps2 = o['eps'][1]
    if o['maximize']:
        g = -g
    beta2t = 1 - t ** o['beta2Decay']
    rho = min(o['lr'], 1 / math.sqrt(t))
    alpha = max(eps2, np.sqrt(np.mean(p * p))) * rho
    p = p - o['lr'] * o['weightDecay'] * p
    if g.ndim > 1:
        R = s['R'] = beta2t * s.get('R', 0.0) + (1 - beta2t) * np.mean(g * g, axis=-1, keepdims=True)
        C = s['C'] = beta2t * s.get('C', 0.0) + (1 - beta2t) * np.mean(g * g, axis=-2, keepdims=True)
        V = R * C / np.maximum(np.mean(R, axis=-2, keepdims=True), eps1)
    else:
        V = s['V'] = beta2t * s.get('V', 0.0) + (1 - beta2t) * g * g
    U = g / np.sqrt(np.maximum(V, eps1 * eps1))
    Uh = U / max(1.0, np.sqrt(np.mean(U * U)) / o['d'])
    return p - alpha * Uh


def adafactor_fixtures():
    cases = [
        ('default', 'mlp', {}, None),
        ('lr, d, weight decay', 'mlp', {'lr': 0.05, 'd': 2.0, 'weightDecay': 0.1, 'beta2Decay': -0.5}, None),
        ('eps, maximize', 'mlp', {'eps': [1e-3, 1e-2], 'maximize': True}, None),
        ('groups', 'mlp', {'lr': 0.03}, [{'lr': 0.1}, {'weightDecay': 0.5}]),
        ('order-3 tensor and a scalar', 'cube', {'lr': 0.05}, None),
    ]
    write('adafactor.json', {'configs': [config(n, pb, o, run(pb, o, ADAFACTOR, g, adafactor_update), g) for n, pb, o, g in cases]})


# ------------------------------------------------------------------ Muon (PyTorch 2.9's documented algorithm)

MUON = {'lr': 1e-3, 'weightDecay': 0.1, 'momentum': 0.95, 'nesterov': True, 'nsCoefficients': [3.4445, -4.775, 2.0315],
        'eps': 1e-7, 'nsSteps': 5, 'adjustLrFn': None, 'maximize': False}


def newton_schulz(G, coeffs, steps, eps):
    a, b, c = coeffs
    X = G.T if G.shape[0] > G.shape[1] else G
    X = X / max(np.linalg.norm(X), eps)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if G.shape[0] > G.shape[1] else X


def muon_update(p, g, s, o, t):
    if o['maximize']:
        g = -g
    B = s['B'] = o['momentum'] * s.get('B', 0.0) + g          # the docs' B_t = mu B_{t-1} + g_t
    Bt = g + o['momentum'] * B if o['nesterov'] else B
    O = newton_schulz(Bt, o['nsCoefficients'], o['nsSteps'], o['eps'])
    p = p - o['lr'] * o['weightDecay'] * p
    A_, B_ = p.shape
    ratio = 0.2 * math.sqrt(max(A_, B_)) if o['adjustLrFn'] == 'match_rms_adamw' else math.sqrt(max(1, A_ / B_))
    return p - o['lr'] * ratio * O


def muon_fixtures():
    cases = [
        ('lr=0.02', 'mlp2d', {'lr': 0.02}, None),
        ('no nesterov, match_rms_adamw', 'mlp2d', {'lr': 0.05, 'nesterov': False, 'adjustLrFn': 'match_rms_adamw', 'weightDecay': 0.0}, None),
        ('ns steps, momentum, maximize', 'mlp2d', {'lr': 0.02, 'nsSteps': 3, 'momentum': 0.8, 'maximize': True}, None),
        ('groups', 'mlp2d', {'lr': 0.02}, [{'lr': 0.05}, {'weightDecay': 0.0, 'momentum': 0.9}]),
    ]
    write('muon.json', {'configs': [config(n, pb, o, run(pb, o, MUON, g, muon_update), g) for n, pb, o, g in cases]})


# ------------------------------------------------------------------ Shampoo (Gupta, Koren & Singer 2018, Algorithm 2)

SHAMPOO = {'lr': 1e-2, 'momentum': 0.0, 'weightDecay': 0.0, 'epsilon': 1e-4, 'beta2': 1.0, 'preconditionFrequency': 1,
           'exponentOverride': None, 'maxPreconditionerDim': 1024, 'grafting': 'none', 'graftingEps': 1e-8,
           'graftingBeta2': 0.999, 'maximize': False}


def inverse_root(A, p):
    w, V = np.linalg.eigh(A)
    return (V * w ** (-1.0 / p)) @ V.T


def mode_product(X, M, i):
    return np.moveaxis(np.tensordot(M, np.moveaxis(X, i, 0), axes=1), 0, i)


def shampoo_update(p, g, s, o, t):
    if p.ndim == 0:        # a scalar is preconditioned as a 1-element vector
        return shampoo_update(p.reshape(1), g.reshape(1), s, o, t).reshape(())
    shape = p.shape
    if o['maximize']:
        g = -g
    g = g + o['weightDecay'] * p
    k = len(shape)
    exp = o['exponentOverride'] or 2 * k
    full = [d <= o['maxPreconditionerDim'] for d in shape]
    if 'L' not in s:
        s['L'] = [o['epsilon'] * np.eye(d) if f else o['epsilon'] * np.ones(d) for d, f in zip(shape, full)]
        s['P'] = [None] * k
    w_new = 1 - o['beta2'] if o['beta2'] < 1 else 1.0
    for i in range(k):
        Gi = np.moveaxis(g, i, 0).reshape(shape[i], -1)
        s['L'][i] = o['beta2'] * s['L'][i] + w_new * (Gi @ Gi.T if full[i] else np.sum(Gi * Gi, axis=1))
        if (t - 1) % o['preconditionFrequency'] == 0:
            s['P'][i] = inverse_root(s['L'][i], exp) if full[i] else s['L'][i] ** (-1.0 / exp)
    D = g
    for i in range(k):
        if full[i]:
            D = mode_product(D, s['P'][i], i)
        else:
            D = D * s['P'][i].reshape([d if j == i else 1 for j, d in enumerate(shape)])
    if o['grafting'] != 'none':
        if o['grafting'] == 'sgd':
            gd = g
        elif o['grafting'] == 'adagrad':
            s['G'] = s.get('G', 0.0) + g * g
            gd = g / (np.sqrt(s['G']) + o['graftingEps'])
        else:
            b = o['graftingBeta2']
            s['G'] = b * s.get('G', 0.0) + (1 - b) * g * g
            gd = g / (np.sqrt(s['G'] / (1 - b ** t)) + o['graftingEps'])
        dn = np.linalg.norm(D)
        if dn > 0:
            D = D * (np.linalg.norm(gd) / dn)
    if o['momentum'] != 0:
        s['buf'] = D if 'buf' not in s else o['momentum'] * s['buf'] + D
        D = s['buf']
    return p - o['lr'] * D


def shampoo_fixtures():
    cases = [
        ('lr=0.05', 'mlp', {'lr': 0.05}, None),
        ('adagrad grafting, momentum', 'mlp', {'lr': 0.1, 'grafting': 'adagrad', 'momentum': 0.9}, None),
        ('frequency 3, diagonal above 3, exponent 2', 'mlp', {'lr': 0.05, 'preconditionFrequency': 3, 'maxPreconditionerDim': 3, 'exponentOverride': 2}, None),
        ('adam grafting, beta2, weight decay', 'mlp', {'lr': 0.02, 'grafting': 'adam', 'beta2': 0.9, 'weightDecay': 1e-2, 'epsilon': 1e-3}, None),
        ('sgd grafting, maximize', 'mlp', {'lr': 0.05, 'grafting': 'sgd', 'maximize': True}, None),
        ('groups', 'mlp', {'lr': 0.05}, [{'epsilon': 1e-2}, {'lr': 0.01, 'momentum': 0.5}]),
        ('order-3 tensor and a scalar', 'cube', {'lr': 0.1}, None),
        ('order-3 tensor, diagonal above 2, adagrad grafting', 'cube', {'lr': 0.1, 'maxPreconditionerDim': 2, 'grafting': 'adagrad'}, None),
    ]
    write('shampoo.json', {'configs': [config(n, pb, o, run(pb, o, SHAMPOO, g, shampoo_update), g) for n, pb, o, g in cases]})


# ------------------------------------------------------------------ Schedule-Free (Defazio et al. 2024, Algorithm 1, explicit x, y, z)

SF_COMMON = {'weightDecay': 0.0, 'warmupSteps': 0, 'r': 0.0, 'weightLrPower': 2.0, 'maximize': False}
SF_SGD = {'lr': 1.0, 'momentum': 0.9, **SF_COMMON}
SF_ADAMW = {'lr': 0.0025, 'betas': [0.9, 0.999], 'eps': 1e-8, **SF_COMMON}


def schedule_free(problem, options, groups, adam):
    params = init_params(problem)
    opts = group_options(len(params), options, SF_ADAMW if adam else SF_SGD, groups)
    z = [p.copy() for p in params]
    x = [p.copy() for p in params]
    y = [p.copy() for p in params]
    v = [np.zeros_like(p) for p in params]
    # The averaging weights are per group in the reference; parameters of a group share them.
    lr_max = [-1.0] * len(params)
    wsum = [0.0] * len(params)
    traj = []
    for t in range(1, STEPS + 1):
        _, grads = loss_and_grads(problem, y)
        for i, g in enumerate(grads):
            o = opts[i]
            beta = o['betas'][0] if adam else o['momentum']
            if o['maximize']:
                g = -g
            lr_t = o['lr'] * (t / o['warmupSteps'] if t <= o['warmupSteps'] else 1.0)
            if adam:
                b2 = o['betas'][1]
                lr_t *= math.sqrt(1 - b2 ** t)
                v[i] = b2 * v[i] + (1 - b2) * g * g
                d = g / (np.sqrt(v[i]) + o['eps']) + o['weightDecay'] * y[i]
            else:
                d = g + o['weightDecay'] * y[i]
            z_new = z[i] - lr_t * d
            lr_max[i] = max(lr_max[i], lr_t)
            weight = t ** o['r'] * lr_max[i] ** o['weightLrPower']
            wsum[i] += weight
            c = weight / wsum[i]
            x[i] = (1 - c) * x[i] + c * z_new
            z[i] = z_new
            y[i] = (1 - beta) * z[i] + beta * x[i]
        traj.append(flat(y))
    return traj, flat(x)


def schedule_free_fixtures():
    for name, adam, cases in [
        ('schedule_free_sgd', False, [
            ('lr=0.5', 'mlp', {'lr': 0.5}, None),
            ('warmup, weight decay, r', 'mlp', {'lr': 1.0, 'warmupSteps': 5, 'weightDecay': 1e-2, 'r': 1.0, 'momentum': 0.8}, None),
            ('maximize', 'mlp', {'lr': 0.2, 'maximize': True}, None),
            ('groups', 'mlp', {'lr': 0.5}, [{'lr': 1.0}, {'momentum': 0.95, 'weightLrPower': 1.0}]),
        ]),
        ('schedule_free_adamw', True, [
            ('lr=0.05', 'mlp', {'lr': 0.05}, None),
            ('warmup, weight decay, betas', 'mlp', {'lr': 0.05, 'warmupSteps': 4, 'weightDecay': 0.1, 'betas': [0.8, 0.99]}, None),
            ('maximize', 'mlp', {'lr': 0.02, 'maximize': True}, None),
            ('groups', 'mlp', {'lr': 0.05}, [{'lr': 0.1, 'eps': 1e-6}, {'r': 0.5}]),
        ]),
    ]:
        configs = []
        for n, pb, o, g in cases:
            traj, final_x = schedule_free(pb, o, g, adam)
            configs.append(config(n, pb, o, traj, g, final=final_x))
        write(f'{name}.json', {'configs': configs})


# ------------------------------------------------------------------ SAM / ASAM (Foret et al. 2021; Kwon et al. 2021) and Lookahead (Zhang et al. 2019)

def sgd_step(p, g, s, o):
    """torch.optim.SGD's rule (first momentum buffer = the gradient)."""
    if o.get('weightDecay', 0):
        g = g + o['weightDecay'] * p
    mu = o.get('momentum', 0.0)
    if mu:
        s['buf'] = g if 'buf' not in s else mu * s['buf'] + g
        g = s['buf']
    return p - o['lr'] * g


def adam_step(p, g, s, o):
    b1, b2 = o.get('betas', [0.9, 0.999])
    s['t'] = s.get('t', 0) + 1
    s['m'] = b1 * s.get('m', 0.0) + (1 - b1) * g
    s['v'] = b2 * s.get('v', 0.0) + (1 - b2) * g * g
    mh = s['m'] / (1 - b1 ** s['t'])
    vh = s['v'] / (1 - b2 ** s['t'])
    return p - o['lr'] * mh / (np.sqrt(vh) + o.get('eps', 1e-8))


BASES = {'SGD': sgd_step, 'Adam': adam_step}


def sam(problem, base, base_opts, rho, adaptive, groups=None):
    params = init_params(problem)
    n = len(params)
    half = (n + 1) // 2
    gopts = [{**base_opts, 'rho': rho, 'adaptive': adaptive, **((groups or [{}, {}])[0 if i < half else 1])} for i in range(n)]
    states = [dict() for _ in params]
    traj = []
    for _ in range(STEPS):
        _, g = loss_and_grads(problem, params)
        T = [np.abs(p) if o['adaptive'] else np.ones_like(p) for p, o in zip(params, gopts)]
        norm = math.sqrt(sum(np.sum((t * gi) ** 2) for t, gi in zip(T, g)))
        e = [o['rho'] * t * t * gi / (norm + 1e-12) for t, gi, o in zip(T, g, gopts)]
        _, g_sam = loss_and_grads(problem, [p + ei for p, ei in zip(params, e)])
        params = [BASES[base](p, gi, s, o) for p, gi, s, o in zip(params, g_sam, states, gopts)]
        traj.append(flat(params))
    return traj


def lookahead(problem, base, base_opts, k, alpha, groups=None):
    params = init_params(problem)
    n = len(params)
    half = (n + 1) // 2
    gopts = [{**base_opts, 'k': k, 'alpha': alpha, **((groups or [{}, {}])[0 if i < half else 1])} for i in range(n)]
    slow = [p.copy() for p in params]
    states = [dict() for _ in params]
    traj = []
    for t in range(1, STEPS + 1):
        _, g = loss_and_grads(problem, params)
        params = [BASES[base](p, gi, s, o) for p, gi, s, o in zip(params, g, states, gopts)]
        for i, o in enumerate(gopts):
            if t % o['k'] == 0:
                slow[i] = slow[i] + o['alpha'] * (params[i] - slow[i])
                params[i] = slow[i].copy()
        traj.append(flat(params))
    return traj


def wrapper_fixtures():
    sam_cases = [
        ('SGD momentum, rho=0.05', 'SGD', {'lr': 0.1, 'momentum': 0.9}, 0.05, False, None),
        ('Adam, rho=0.1', 'Adam', {'lr': 0.01}, 0.1, False, None),
        ('ASAM with SGD, rho=0.5', 'SGD', {'lr': 0.1}, 0.5, True, None),
        ('groups: per-group rho and lr', 'SGD', {'lr': 0.1, 'momentum': 0.5}, 0.05, False, [{'rho': 0.2}, {'lr': 0.05}]),
    ]
    write('sam.json', {'configs': [
        {'name': n, 'problem': 'mlp', 'base': b, 'baseOptions': bo, 'options': {'rho': r, 'adaptive': a}, **({'groups': g} if g else {}),
         'trajectory': sam('mlp', b, bo, r, a, g)} for n, b, bo, r, a, g in sam_cases]})
    la_cases = [
        ('Adam, k=5, alpha=0.5', 'Adam', {'lr': 0.05}, 5, 0.5, None),
        ('SGD momentum, k=3, alpha=0.8', 'SGD', {'lr': 0.2, 'momentum': 0.9}, 3, 0.8, None),
        ('groups: per-group k and alpha', 'SGD', {'lr': 0.2}, 4, 0.5, [{'k': 2}, {'alpha': 0.3}]),
    ]
    write('lookahead.json', {'configs': [
        {'name': n, 'problem': 'mlp', 'base': b, 'baseOptions': bo, 'options': {'k': k, 'alpha': a}, **({'groups': g} if g else {}),
         'trajectory': lookahead('mlp', b, bo, k, a, g)} for n, b, bo, k, a, g in la_cases]})


# ------------------------------------------------------------------ Newton and Newton-CG (Nocedal & Wright, Alg. 3.1, 7.1)

NEWTON = {'lr': 1.0, 'damping': 0.0, 'lineSearch': 'armijo', 'c1': 1e-4, 'backtrack': 0.5, 'maxLineSearch': 30, 'maximize': False}
NEWTON_CG = {**NEWTON, 'cgMaxIter': 50, 'cgTol': None}


def flat_hessian(problem, params, sign):
    sizes = [p.size for p in params]
    shapes = [p.shape for p in params]

    def f(x):
        ts, off = [], 0
        for n, sh in zip(sizes, shapes):
            ts.append(x[off:off + n].reshape(sh))
            off += n
        return sign * torch_loss(problem, ts)
    x = torch.tensor(np.concatenate([p.reshape(-1) for p in params]))
    return torch.autograd.functional.hessian(f, x).numpy()


def damped_newton_direction(H, g, damping):
    lam = damping
    scale = max(1.0, np.max(np.abs(np.diag(H))))
    for _ in range(64):
        try:
            np.linalg.cholesky(H + lam * np.eye(len(g)))
            return np.linalg.solve(H + lam * np.eye(len(g)), -g)
        except np.linalg.LinAlgError:
            lam = 1e-8 * scale if lam == 0 else lam * 10
    raise RuntimeError('indefinite')


def cg_direction(H, g, o):
    """Truncated CG on (H + damping I) d = -g with the explicit Hessian."""
    B = H + o['damping'] * np.eye(len(g))
    gn = np.linalg.norm(g)
    tol = min(0.5, math.sqrt(gn)) * gn if o['cgTol'] is None else o['cgTol'] * gn
    z = np.zeros_like(g)
    r = g.copy()
    d = -r
    iters = 0
    for j in range(o['cgMaxIter']):
        if np.linalg.norm(r) <= tol:
            break
        Bd = B @ d
        curv = d @ Bd
        iters = j + 1
        if not curv > 0:
            return -g if j == 0 else z
        alpha = (r @ r) / curv
        z = z + alpha * d
        r_new = r + alpha * Bd
        beta = (r_new @ r_new) / (r @ r)
        r = r_new
        d = -r + beta * d
    return -g if iters == 0 else z


def newton(problem, options, groups, cg):
    defaults = NEWTON_CG if cg else NEWTON
    params = init_params(problem)
    opts = group_options(len(params), options, defaults, groups)
    o = opts[0]
    sign = -1.0 if o['maximize'] else 1.0
    lr = np.concatenate([np.full(p.size, oi['lr']) for p, oi in zip(params, opts)])
    traj = []
    for _ in range(STEPS):
        loss, grads = loss_and_grads(problem, params)
        f0 = sign * loss
        g = sign * np.concatenate([gi.reshape(-1) for gi in grads])
        H = flat_hessian(problem, params, sign)
        d = cg_direction(H, g, o) if cg else damped_newton_direction(H, g, o['damping'])
        s = lr * d
        if not g @ s < 0:
            s = -lr * g
        x0 = np.concatenate([p.reshape(-1) for p in params])

        def unflat(x):
            out, off = [], 0
            for p in params:
                out.append(x[off:off + p.size].reshape(p.shape))
                off += p.size
            return out
        t = 1.0
        if o['lineSearch'] == 'armijo':
            for k in range(o['maxLineSearch']):
                if sign * loss_value(problem, unflat(x0 + t * s)) <= f0 + o['c1'] * t * (g @ s):
                    break
                if k == o['maxLineSearch'] - 1:
                    break
                t *= o['backtrack']
        params = unflat(x0 + t * s)
        traj.append(flat(params))
    return traj


def newton_fixtures():
    newton_cases = [
        ('rosenbrock', 'rosenbrock', {}, None),
        ('rosenbrock, no line search', 'rosenbrock', {'lineSearch': None}, None),
        ('quadratic, damping', 'quadratic', {'damping': 10.0}, None),
        ('logreg, groups', 'logreg', {}, [{'lr': 0.5}, {'lr': 1.0}]),
        ('quadratic, maximize the negation', 'quadratic', {'maximize': True, 'damping': 3.0}, None),
    ]
    write('newton.json', {'configs': [config(n, pb, o, newton(pb, o, g, False), g) for n, pb, o, g in newton_cases]})
    cg_cases = [
        ('rosenbrock', 'rosenbrock', {}, None),
        ('rosenbrock, tight CG', 'rosenbrock', {'cgTol': 1e-8}, None),
        ('quadratic, 2 CG iterations, damping', 'quadratic', {'cgMaxIter': 2, 'damping': 1.0}, None),
        ('logreg, groups', 'logreg', {'cgTol': 1e-6}, [{'lr': 0.5}, {'lr': 1.0}]),
    ]
    write('newton_cg.json', {'configs': [config(n, pb, o, newton(pb, o, g, True), g) for n, pb, o, g in cg_cases]})


# ------------------------------------------------------------------ K-FAC (Martens & Grosse 2015) and the diagonal empirical Fisher

KFAC = {'lr': 1e-2, 'momentum': 0.9, 'weightDecay': 0.0, 'damping': 1e-3, 'statDecay': 0.95, 'covUpdateFrequency': 1,
        'invUpdateFrequency': 10, 'klClip': 1e-3, 'maximize': False}
DFISHER = {k: v for k, v in KFAC.items() if k not in ('invUpdateFrequency', 'klClip')}


def mlp_forward(params):
    """The mlp problem with each layer's input a and pre-activation output s (grads retained)."""
    P = PROBLEMS['mlp']
    X, Y = torch.tensor(P['X']), torch.tensor(P['Y'])
    W1, b1, W2, b2 = params
    s1 = X @ W1.T + b1
    s1.retain_grad()
    h = torch.tanh(s1)
    s2 = h @ W2.T + b2
    s2.retain_grad()
    loss = ((s2 - Y) ** 2).mean()
    return loss, [(X, s1), (h, s2)]


def sgd_momentum(params, nat, states, o):
    out = []
    for p, d, s in zip(params, nat, states):
        d = d + o['weightDecay'] * p
        if o['momentum']:
            s['buf'] = d if 'buf' not in s else o['momentum'] * s['buf'] + d
            d = s['buf']
        out.append(p - o['lr'] * d)
    return out


def kfac(options, fisher_diag):
    o = {**(DFISHER if fisher_diag else KFAC), **options}
    params = init_params('mlp')
    states = [dict() for _ in params]
    layers = [dict(), dict()]
    traj = []
    sign = -1.0 if o['maximize'] else 1.0
    for k in range(STEPS):
        ts = [torch.tensor(p, requires_grad=True) for p in params]
        loss, acts = mlp_forward(ts)
        loss.backward()
        grads = [sign * t.grad.numpy() for t in ts]
        nat = list(grads)
        vg = 0.0
        for li, (a_t, s_t) in enumerate(acts):
            a = a_t.detach().numpy()
            gs = s_t.grad.numpy()
            N = a.shape[0]
            st = layers[li]
            gW, gb = grads[2 * li], grads[2 * li + 1]
            if fisher_diag:
                if k % o['covUpdateFrequency'] == 0:
                    # per-sample gradients of l_i (the loss is their mean), by real backward passes
                    FW, Fb = np.zeros_like(gW), np.zeros_like(gb)
                    for i in range(N):
                        ti = [torch.tensor(p, requires_grad=True) for p in params]
                        P = PROBLEMS['mlp']
                        Xi, Yi = torch.tensor(P['X'])[i:i + 1], torch.tensor(P['Y'])[i:i + 1]
                        h = torch.tanh(Xi @ ti[0].T + ti[1])
                        li_loss = ((h @ ti[2].T + ti[3] - Yi) ** 2).mean()
                        gi = torch.autograd.grad(li_loss, ti)
                        FW += gi[2 * li].numpy() ** 2 / N
                        Fb += gi[2 * li + 1].numpy() ** 2 / N
                    st['FW'] = FW if 'FW' not in st else o['statDecay'] * st['FW'] + (1 - o['statDecay']) * FW
                    st['Fb'] = Fb if 'Fb' not in st else o['statDecay'] * st['Fb'] + (1 - o['statDecay']) * Fb
                nat[2 * li] = gW / (st['FW'] + o['damping'])
                nat[2 * li + 1] = gb / (st['Fb'] + o['damping'])
                continue
            if k % o['covUpdateFrequency'] == 0:
                a1 = np.concatenate([a, np.ones((N, 1))], axis=1)
                A = a1.T @ a1 / N
                G = gs.T @ gs * N
                st['A'] = A if 'A' not in st else o['statDecay'] * st['A'] + (1 - o['statDecay']) * A
                st['G'] = G if 'G' not in st else o['statDecay'] * st['G'] + (1 - o['statDecay']) * G
            if k % o['invUpdateFrequency'] == 0:
                A, G = st['A'], st['G']
                pi = math.sqrt((np.trace(A) / A.shape[0]) / (np.trace(G) / G.shape[0]))
                lam = math.sqrt(o['damping'])
                st['Ainv'] = np.linalg.inv(A + pi * lam * np.eye(A.shape[0]))
                st['Ginv'] = np.linalg.inv(G + lam / pi * np.eye(G.shape[0]))
            grad = np.concatenate([gW, gb[:, None]], axis=1)
            V = st['Ginv'] @ grad @ st['Ainv']
            vg += np.sum(V * grad)
            nat[2 * li], nat[2 * li + 1] = V[:, :-1], V[:, -1]
        if not fisher_diag and o['klClip'] is not None:
            nu = min(1.0, math.sqrt(o['klClip'] / (vg * o['lr'] ** 2)))
            nat = [v * nu for v in nat]
        params = sgd_momentum(params, nat, states, o)
        traj.append(flat(params))
    return traj


def kfac_fixtures():
    cases = [
        ('defaults, lr=0.05', {'lr': 0.05}),
        ('TInv 3, TCov 2, decay, damping, no KL clip', {'lr': 0.02, 'invUpdateFrequency': 3, 'covUpdateFrequency': 2, 'statDecay': 0.9, 'damping': 1e-2, 'klClip': None}),
        ('weight decay, no momentum, KL clip 1e-2', {'lr': 0.1, 'weightDecay': 1e-2, 'momentum': 0.0, 'klClip': 1e-2}),
        ('maximize', {'lr': 0.01, 'maximize': True}),
    ]
    write('kfac.json', {'configs': [config(n, 'mlp', o, kfac(o, False)) for n, o in cases]})
    dcases = [
        ('lr=1e-3', {'lr': 1e-3}),
        ('TCov 2, damping, decay, weight decay', {'lr': 2e-3, 'covUpdateFrequency': 2, 'damping': 1e-2, 'statDecay': 0.8, 'weightDecay': 1e-3}),
        ('maximize, no momentum', {'lr': 1e-3, 'maximize': True, 'momentum': 0.0}),
    ]
    write('diagonal_fisher.json', {'configs': [config(n, 'mlp', o, kfac(o, True)) for n, o in dcases]})


# ------------------------------------------------------------------ SVRG, SAG, SAGA

VR = {'lr': 1e-2, 'batchSize': 1, 'weightDecay': 0.0, 'maximize': False}


def logreg_sample_grads(params, i):
    """Closed-form gradient of softplus(-y_i (x_i.w + b)) + (l2/2)(|w|^2 + b^2)."""
    P = PROBLEMS['logreg']
    x, y = np.array(P['X'][i]), P['y'][i]
    w, b = params
    m = y * (x @ w + b[0])
    s = -y / (1 + math.exp(m))          # d/dm softplus(-m) = -sigmoid(-m)
    return [s * x + LOGREG_L2 * w, np.array([s]) + LOGREG_L2 * b]


def batch_grads(params, idx):
    gs = [logreg_sample_grads(params, i) for i in idx]
    return [sum(g[k] for g in gs) / len(idx) for k in range(2)]


def vr(kind, options, groups, indices, steps):
    defaults = {**VR, 'numSamples': 10}
    params = init_params('logreg')
    opts = group_options(len(params), options, defaults, groups)
    o0 = opts[0]
    n = o0['numSamples']
    traj = []

    def apply(params, v):
        return [p - o['lr'] * ((-vk if o['maximize'] else vk) + o['weightDecay'] * p) for p, vk, o in zip(params, v, opts)]
    if kind == 'svrg':
        m = o0.get('updateFrequency') or math.ceil(2 * n / o0['batchSize'])
        for t in range(steps):
            if t % m == 0:
                snap = [p.copy() for p in params]
                mu = batch_grads(snap, list(range(n)))
            idx = indices[t]
            g = batch_grads(params, idx)
            gs = batch_grads(snap, idx)
            params = apply(params, [gi - gsi + mui for gi, gsi, mui in zip(g, gs, mu)])
            traj.append(flat(params))
    elif kind == 'sag':
        table = [[np.zeros_like(p) for p in params] for _ in range(n)]
        d = [np.zeros_like(p) for p in params]
        seen = set()
        for t in range(steps):
            for j in indices[t]:
                g = logreg_sample_grads(params, j)
                d = [dk - yk + gk for dk, yk, gk in zip(d, table[j], g)]
                table[j] = g
                seen.add(j)
            params = apply(params, [dk / len(seen) for dk in d])
            traj.append(flat(params))
    else:
        if o0.get('tableInit') == 'full':
            table = [logreg_sample_grads(params, i) for i in range(n)]
        else:
            table = [[np.zeros_like(p) for p in params] for _ in range(n)]
        for t in range(steps):
            B = indices[t]
            mean = [sum(table[i][k] for i in range(n)) / n for k in range(2)]
            fresh = [logreg_sample_grads(params, j) for j in B]
            v = [mean[k] + sum(f[k] - table[j][k] for j, f in zip(B, fresh)) / len(B) for k in range(2)]
            for j, f in zip(B, fresh):
                table[j] = f
            params = apply(params, v)
            traj.append(flat(params))
    return traj


def vr_fixtures():
    rng = np.random.default_rng(7)
    steps = 25

    def draws(batch):
        return [rng.integers(0, 10, size=batch).tolist() for _ in range(steps)]
    for kind, cases in [
        ('svrg', [
            ('lr=0.5, m=2n', {'lr': 0.5}, None, 1),
            ('batches of 2, m=5, weight decay, chunked full gradient', {'lr': 0.5, 'batchSize': 2, 'updateFrequency': 5, 'fullBatchSize': 4, 'weightDecay': 1e-2}, None, 2),
            ('groups, maximize', {'lr': 0.2, 'maximize': True}, [{'lr': 0.1}, {'weightDecay': 0.1}], 1),
        ]),
        ('sag', [
            ('lr=0.5', {'lr': 0.5}, None, 1),
            ('batches of 3, weight decay', {'lr': 0.5, 'batchSize': 3, 'weightDecay': 1e-2}, None, 3),
            ('groups, maximize', {'lr': 0.2, 'maximize': True}, [{'lr': 0.1}, {'weightDecay': 0.1}], 1),
        ]),
        ('saga', [
            ('lr=0.5, zero table', {'lr': 0.5}, None, 1),
            ('full table, batches of 2, weight decay', {'lr': 0.5, 'tableInit': 'full', 'batchSize': 2, 'weightDecay': 1e-2}, None, 2),
            ('groups, maximize', {'lr': 0.2, 'maximize': True}, [{'lr': 0.1}, {'weightDecay': 0.1}], 1),
        ]),
    ]:
        configs = []
        for n, o, g, batch in cases:
            idx = draws(batch)
            opts = {**o, 'numSamples': 10}
            configs.append(config(n, 'logreg', opts, vr(kind, opts, g, idx, steps), g, indices=idx))
        write(f'{kind}.json', {'configs': configs})


# ------------------------------------------------------------------ EMA / Polyak averaging

def averaging_fixtures():
    rng = np.random.default_rng(11)
    seq = [rng.standard_normal(4) for _ in range(15)]
    init = rng.standard_normal(4)
    out = []
    for name, decay, warmup, start, polyak in [
        ('ema 0.9', 0.9, False, 0, False), ('ema 0.99 warmup', 0.99, True, 0, False), ('ema 0.8 start 3', 0.8, False, 3, False),
        ('polyak', None, False, 0, True), ('polyak start 4', None, False, 4, True),
    ]:
        avg = init.copy()
        history = []
        for n, w in enumerate(seq, start=1):
            if polyak:
                m = n - 1 - start          # iterates already averaged
                beta = 0.0 if m <= 0 else m / (m + 1)
            elif n <= start:
                beta = 0.0
            else:
                beta = min(decay, (1 + n) / (10 + n)) if warmup else decay
            avg = beta * avg + (1 - beta) * w
            history.append(avg.tolist())
        out.append({'name': name, 'decay': decay, 'warmup': warmup, 'startStep': start, 'polyak': polyak, 'averages': history})
    write('averaging.json', {'init': init.tolist(), 'sequence': [s.tolist() for s in seq], 'configs': out})


# ------------------------------------------------------------------ self-checks of the references

def check_references():
    """Cross-check the references where something independent exists.

    - sgd_step / adam_step (SAM's and Lookahead's bases) against torch.optim 1.13;
    - the explicit x, y, z form of Schedule-Free against the in-place y form of the authors'
      reference implementation (facebookresearch/schedule_free), which tensorgrad follows.
    """
    for name, make, step, opts in [
        ('SGD', lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), sgd_step, {'lr': 0.1, 'momentum': 0.9}),
        ('Adam', lambda ps: torch.optim.Adam(ps, lr=0.01), adam_step, {'lr': 0.01}),
    ]:
        params = init_params('mlp')
        ts = [torch.tensor(p, requires_grad=True) for p in params]
        opt = make(ts)
        states = [dict() for _ in params]
        for _ in range(STEPS):
            opt.zero_grad()
            torch_loss('mlp', ts).backward()
            opt.step()
            _, g = loss_and_grads('mlp', params)
            params = [step(p, gi, st, opts) for p, gi, st in zip(params, g, states)]
        err = max(np.max(np.abs(p - t.detach().numpy())) for p, t in zip(params, ts))
        assert err < 1e-13, f'{name} reference differs from torch.optim by {err}'
    for adam in (False, True):
        options = {'lr': 0.05 if adam else 0.5, 'warmupSteps': 3, 'weightDecay': 1e-2}
        explicit, _ = schedule_free('mlp', options, None, adam)
        o = {**(SF_ADAMW if adam else SF_SGD), **options}
        beta = o['betas'][0] if adam else o['momentum']
        y = init_params('mlp')
        z = [p.copy() for p in y]
        v = [np.zeros_like(p) for p in y]
        lr_max, wsum, traj = -1.0, 0.0, []
        for k in range(STEPS):
            _, grads = loss_and_grads('mlp', y)
            sched = (k + 1) / o['warmupSteps'] if k < o['warmupSteps'] else 1.0
            lr = o['lr'] * sched * (math.sqrt(1 - o['betas'][1] ** (k + 1)) if adam else 1.0)
            lr_max = max(lr, lr_max)
            weight = (k + 1) ** o['r'] * lr_max ** o['weightLrPower']
            wsum += weight
            ckp1 = weight / wsum
            for i, g in enumerate(grads):
                if adam:
                    v[i] = o['betas'][1] * v[i] + (1 - o['betas'][1]) * g * g
                    g = g / (np.sqrt(v[i]) + o['eps'])
                g = g + o['weightDecay'] * y[i]
                y[i] = y[i] + ckp1 * (z[i] - y[i]) + lr * (beta * (1 - ckp1) - 1) * g
                z[i] = z[i] - lr * g
            traj.append(flat(y))
        err = np.max(np.abs(np.array(traj) - np.array(explicit)))
        assert err < 1e-12, f'Schedule-Free forms differ by {err}'
    print('references checked: SGD/Adam against torch.optim 1.13, Schedule-Free explicit = in-place form')


def main():
    check_references()
    write('problems.json', PROBLEMS)
    lion_fixtures()
    lamb_fixtures()
    lars_fixtures()
    adafactor_fixtures()
    muon_fixtures()
    shampoo_fixtures()
    schedule_free_fixtures()
    wrapper_fixtures()
    newton_fixtures()
    kfac_fixtures()
    vr_fixtures()
    averaging_fixtures()


if __name__ == '__main__':
    main()
