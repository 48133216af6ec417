"""Record torch.optim trajectories, scheduler curves, clipping and SWA results as JSON fixtures.

Run with Debian's Python, which has PyTorch 1.13:

    /usr/bin/python3 scripts/torch_fixtures_optim.py

Writes test/fixtures/optim/*.json (read by test/optim/*.test.ts):

- problems.json: the three test problems (initial parameters and data), all float64:
  rosenbrock (params x[1], y[1]), quadratic (an ill-conditioned 6-D quadratic over a[3], c[3])
  and mlp (a 3-4-2 tanh network, MSE on 16 fixed samples; params W1, b1, W2, b2).
- <optimizer>.json: {"configs": [{"name", "options", "groups", "source", "trajectories":
  {problem: [[params flattened after step 1], ... 25 steps]}, "losses"?}]}. "options" are
  tensorgrad's camelCase options; "groups" (optional) lists per-group overrides applied to the
  first and second half of the parameter list. "source" is "torch-1.13" or "reference".
- schedulers.json: lr (and momentum/beta1) of every group after construction and after each of
  60 steps.
- clip.json, swa.json: nn.utils.clip_grad_norm_/clip_grad_value_ and swa_utils results.

Options that PyTorch 1.13 lacks (NAdam/RAdam `decoupled_weight_decay` and `maximize`, NAdam's
fixed momentum-cache product, Adam's `decoupled_weight_decay`, CyclicLR momentum cycling of
Adam's beta1) are recorded from independent float64 reference implementations written from
PyTorch 2.x's documented algorithms; each reference is first checked to reproduce 1.13
bit for bit on the options 1.13 does have (see check_references()).
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'optim')
STEPS = 25


def camel(name):
    head, *rest = name.split('_')
    return head + ''.join(r[:1].upper() + r[1:] for r in rest)


def to_camel(d):
    out = {}
    for k, v in d.items():
        out[camel(k)] = list(v) if isinstance(v, tuple) else v
    return out


def flat(params):
    return torch.cat([p.detach().reshape(-1) for p in params]).tolist()


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(data, f, separators=(',', ':'), allow_nan=False)
    print(f'wrote {name}: {os.path.getsize(os.path.join(OUT, name)) / 1024:.1f} KiB')


# ------------------------------------------------------------------ problems

def make_problems():
    g = torch.Generator().manual_seed(1234)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g))
    eig = torch.logspace(0, 2, 6)
    A = q @ torch.diag(eig) @ q.T
    A = (A + A.T) / 2
    b = torch.randn(6, generator=g)
    quad_init = torch.randn(6, generator=g)
    X = torch.randn(16, 3, generator=g)
    Y = torch.randn(16, 2, generator=g)
    W1 = torch.randn(4, 3, generator=g) * 0.5
    b1 = torch.randn(4, generator=g) * 0.1
    W2 = torch.randn(2, 4, generator=g) * 0.5
    b2 = torch.randn(2, generator=g) * 0.1
    return {
        'rosenbrock': {'init': [[-1.5], [2.0]]},
        'quadratic': {'A': A.tolist(), 'b': b.tolist(), 'init': [quad_init[:3].tolist(), quad_init[3:].tolist()]},
        'mlp': {'X': X.tolist(), 'Y': Y.tolist(), 'init': [W1.tolist(), b1.tolist(), W2.tolist(), b2.tolist()]},
    }


PROBLEMS = make_problems()


def problem_params(name):
    return [torch.tensor(v, requires_grad=True) for v in PROBLEMS[name]['init']]


def problem_loss(name, params):
    if name == 'rosenbrock':
        x, y = params
        return ((1 - x) ** 2 + 100 * (y - x ** 2) ** 2).sum()
    if name == 'quadratic':
        A = torch.tensor(PROBLEMS[name]['A'])
        b = torch.tensor(PROBLEMS[name]['b'])
        x = torch.cat(params)
        return 0.5 * (x @ (A @ x)) - b @ x
    X = torch.tensor(PROBLEMS[name]['X'])
    Y = torch.tensor(PROBLEMS[name]['Y'])
    W1, b1, W2, b2 = params
    h = torch.tanh(X @ W1.T + b1)
    return ((h @ W2.T + b2 - Y) ** 2).mean()


def param_groups(params, groups):
    if groups is None:
        return params
    half = (len(params) + 1) // 2
    return [dict(params=params[:half], **groups[0]), dict(params=params[half:], **groups[1])]


def trajectory(make_opt, problem, groups=None, closure_step=False):
    params = problem_params(problem)
    opt = make_opt(param_groups(params, groups))
    traj, losses = [], []
    for _ in range(STEPS):
        def closure():
            opt.zero_grad()
            loss = problem_loss(problem, params)
            loss.backward()
            return loss
        if closure_step:
            losses.append(float(opt.step(closure)))
        else:
            closure()
            opt.step()
        values = flat(params)
        assert all(math.isfinite(v) and abs(v) < 1e6 for v in values), (problem, values)
        traj.append(values)
    return traj, losses


# ------------------------------------------------------------------ reference optimizers (PyTorch 2.x)

class RefNAdam(torch.optim.Optimizer):
    """NAdam as PyTorch 2.x's _single_tensor_nadam: mu_product_next = mu_product * mu_next,
    decoupled_weight_decay and maximize. buggy_1_13 reproduces 1.13's mu_product * mu * mu_next."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False, buggy_1_13=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, buggy_1_13=buggy_1_13))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            lr, wd = group['lr'], group['weight_decay']
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = -p.grad if group['maximize'] else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0.
                    state['mu_product'] = 1.
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                state['step'] += 1
                step = state['step']
                bias_correction2 = 1 - beta2 ** step
                if wd != 0:
                    if group['decoupled_weight_decay']:
                        p.mul_(1 - lr * wd)
                    else:
                        grad = grad.add(p, alpha=wd)
                mu = beta1 * (1. - 0.5 * (0.96 ** (step * group['momentum_decay'])))
                mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * group['momentum_decay'])))
                state['mu_product'] *= mu
                mu_product = state['mu_product']
                mu_product_next = mu_product * mu * mu_next if group['buggy_1_13'] else mu_product * mu_next
                exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt().add_(group['eps'])
                p.addcdiv_(grad, denom, value=-lr * (1. - mu) / (1. - mu_product))
                p.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1. - mu_product_next))


class RefRAdam(torch.optim.Optimizer):
    """RAdam as PyTorch 2.x's _single_tensor_radam, with decoupled_weight_decay and maximize."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            lr, wd, eps = group['lr'], group['weight_decay'], group['eps']
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = -p.grad if group['maximize'] else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0.
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                state['step'] += 1
                step = state['step']
                if wd != 0:
                    if group['decoupled_weight_decay']:
                        p.mul_(1 - lr * wd)
                    else:
                        grad = grad.add(p, alpha=wd)
                exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                bias_corrected_exp_avg = exp_avg / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.:
                    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    adaptive_lr = math.sqrt(bias_correction2) / exp_avg_sq.sqrt().add_(eps)
                    p.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
                else:
                    p.add_(bias_corrected_exp_avg * lr, alpha=-1.0)


def check_references():
    """The references must reproduce PyTorch 1.13 exactly where 1.13 has the same algorithm."""
    cases = [
        (lambda ps: torch.optim.NAdam(ps, lr=0.01), lambda ps: RefNAdam(ps, lr=0.01, buggy_1_13=True)),
        (lambda ps: torch.optim.NAdam(ps, lr=0.01, weight_decay=0.1), lambda ps: RefNAdam(ps, lr=0.01, weight_decay=0.1, buggy_1_13=True)),
        (lambda ps: torch.optim.RAdam(ps, lr=0.01), lambda ps: RefRAdam(ps, lr=0.01)),
        (lambda ps: torch.optim.RAdam(ps, lr=0.01, weight_decay=0.1, betas=(0.9, 0.9)), lambda ps: RefRAdam(ps, lr=0.01, weight_decay=0.1, betas=(0.9, 0.9))),
    ]
    for torch_opt, ref_opt in cases:
        for problem in PROBLEMS:
            a, _ = trajectory(torch_opt, problem)
            b, _ = trajectory(ref_opt, problem)
            assert a == b, f'reference differs from torch 1.13 on {problem}'
    print('references reproduce torch 1.13 bit for bit')


# ------------------------------------------------------------------ optimizer grid

def cfg(name, ctor, options, groups=None, source='torch-1.13', ref=None, closure_step=False):
    return dict(name=name, ctor=ctor, options=options, groups=groups, source=source, ref=ref, closure_step=closure_step)


O = torch.optim
GRID = {
    'sgd': [
        cfg('lr', O.SGD, dict(lr=1e-3)),
        cfg('momentum', O.SGD, dict(lr=1e-3, momentum=0.9)),
        cfg('dampening', O.SGD, dict(lr=1e-3, momentum=0.9, dampening=0.5)),
        cfg('nesterov', O.SGD, dict(lr=1e-3, momentum=0.9, nesterov=True)),
        cfg('weight_decay', O.SGD, dict(lr=1e-3, weight_decay=0.1)),
        cfg('momentum_wd_nesterov', O.SGD, dict(lr=5e-4, momentum=0.8, weight_decay=0.05, nesterov=True)),
        cfg('maximize', O.SGD, dict(lr=1e-5, momentum=0.5, maximize=True)),
        cfg('momentum_dampening_wd', O.SGD, dict(lr=1e-3, momentum=0.5, dampening=0.1, weight_decay=0.01)),
        cfg('groups', O.SGD, dict(lr=1e-3, momentum=0.9), groups=[dict(lr=1e-3), dict(lr=5e-4)]),
        cfg('groups_options', O.SGD, dict(lr=1e-3), groups=[dict(momentum=0.9, nesterov=True), dict(lr=2e-4, weight_decay=0.1)]),
    ],
    'adam': [
        cfg('default', O.Adam, dict(lr=1e-2)),
        cfg('amsgrad', O.Adam, dict(lr=1e-2, amsgrad=True)),
        cfg('weight_decay', O.Adam, dict(lr=1e-2, weight_decay=0.1)),
        cfg('maximize', O.Adam, dict(lr=1e-3, maximize=True)),
        cfg('betas', O.Adam, dict(lr=1e-2, betas=(0.8, 0.99))),
        cfg('eps', O.Adam, dict(lr=1e-2, eps=1e-3)),
        cfg('amsgrad_wd_maximize', O.Adam, dict(lr=1e-3, amsgrad=True, weight_decay=0.05, maximize=True)),
        cfg('decoupled_weight_decay', O.Adam, dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True), source='reference',
            ref=lambda ps: O.AdamW(ps, lr=1e-2, weight_decay=0.1)),
        cfg('groups', O.Adam, dict(lr=1e-2), groups=[dict(lr=1e-2), dict(lr=3e-3, amsgrad=True)]),
    ],
    'adamw': [
        cfg('default', O.AdamW, dict(lr=1e-2)),
        cfg('weight_decay', O.AdamW, dict(lr=1e-2, weight_decay=0.3)),
        cfg('amsgrad', O.AdamW, dict(lr=1e-2, amsgrad=True)),
        cfg('maximize', O.AdamW, dict(lr=1e-3, maximize=True)),
        cfg('betas_eps', O.AdamW, dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-4)),
        cfg('groups', O.AdamW, dict(lr=1e-2), groups=[dict(lr=2e-2, weight_decay=0.1), dict(lr=5e-3)]),
    ],
    'adagrad': [
        cfg('default', O.Adagrad, dict(lr=0.1)),
        cfg('lr_decay', O.Adagrad, dict(lr=0.1, lr_decay=0.05)),
        cfg('weight_decay', O.Adagrad, dict(lr=0.1, weight_decay=0.1)),
        cfg('initial_accumulator_value', O.Adagrad, dict(lr=0.1, initial_accumulator_value=0.5)),
        cfg('eps', O.Adagrad, dict(lr=0.1, eps=1e-2)),
        cfg('maximize', O.Adagrad, dict(lr=0.01, maximize=True)),
        cfg('groups', O.Adagrad, dict(lr=0.1), groups=[dict(lr=0.1), dict(lr=0.02, lr_decay=0.1)]),
    ],
    'adadelta': [
        cfg('default', O.Adadelta, dict()),
        cfg('rho', O.Adadelta, dict(rho=0.5)),
        cfg('lr_eps', O.Adadelta, dict(lr=0.5, eps=1e-4)),
        cfg('weight_decay', O.Adadelta, dict(weight_decay=0.1)),
        cfg('maximize', O.Adadelta, dict(maximize=True)),
        cfg('groups', O.Adadelta, dict(), groups=[dict(lr=2.0), dict(lr=0.5, rho=0.8)]),
    ],
    'adamax': [
        cfg('default', O.Adamax, dict(lr=2e-2)),
        cfg('betas', O.Adamax, dict(lr=2e-2, betas=(0.8, 0.9))),
        cfg('weight_decay', O.Adamax, dict(lr=2e-2, weight_decay=0.1)),
        cfg('eps', O.Adamax, dict(lr=2e-2, eps=1e-2)),
        cfg('maximize', O.Adamax, dict(lr=1e-3, maximize=True)),
        cfg('groups', O.Adamax, dict(lr=2e-2), groups=[dict(lr=2e-2), dict(lr=4e-3)]),
    ],
    'nadam': [
        cfg('default', RefNAdam, dict(lr=1e-2), source='reference'),
        cfg('momentum_decay', RefNAdam, dict(lr=1e-2, momentum_decay=0.02), source='reference'),
        cfg('weight_decay', RefNAdam, dict(lr=1e-2, weight_decay=0.1), source='reference'),
        cfg('decoupled_weight_decay', RefNAdam, dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True), source='reference'),
        cfg('maximize', RefNAdam, dict(lr=1e-3, maximize=True), source='reference'),
        cfg('betas_eps', RefNAdam, dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-4), source='reference'),
        cfg('groups', RefNAdam, dict(lr=1e-2), groups=[dict(lr=1e-2), dict(lr=3e-3, momentum_decay=0.01)], source='reference'),
    ],
    'radam': [
        cfg('default', O.RAdam, dict(lr=1e-2)),
        cfg('betas', O.RAdam, dict(lr=1e-2, betas=(0.9, 0.9))),
        cfg('weight_decay', O.RAdam, dict(lr=1e-2, weight_decay=0.1, betas=(0.9, 0.95))),
        cfg('decoupled_weight_decay', RefRAdam, dict(lr=1e-2, weight_decay=0.1, betas=(0.9, 0.95), decoupled_weight_decay=True), source='reference'),
        cfg('maximize', RefRAdam, dict(lr=1e-3, maximize=True, betas=(0.9, 0.9)), source='reference'),
        cfg('eps', O.RAdam, dict(lr=1e-2, eps=1e-3, betas=(0.8, 0.9))),
        cfg('groups', O.RAdam, dict(lr=1e-2, betas=(0.9, 0.9)), groups=[dict(lr=1e-2), dict(lr=2e-3)]),
    ],
    'rmsprop': [
        cfg('default', O.RMSprop, dict(lr=1e-2)),
        cfg('alpha', O.RMSprop, dict(lr=1e-2, alpha=0.9)),
        cfg('centered', O.RMSprop, dict(lr=1e-2, centered=True)),
        cfg('momentum', O.RMSprop, dict(lr=1e-3, momentum=0.9)),
        cfg('centered_momentum', O.RMSprop, dict(lr=1e-3, momentum=0.5, centered=True, alpha=0.95)),
        cfg('weight_decay_eps', O.RMSprop, dict(lr=1e-2, weight_decay=0.1, eps=1e-3)),
        cfg('maximize', O.RMSprop, dict(lr=1e-3, maximize=True)),
        cfg('groups', O.RMSprop, dict(lr=1e-2), groups=[dict(lr=1e-2), dict(lr=1e-3, momentum=0.9, centered=True)]),
    ],
    'rprop': [
        cfg('default', O.Rprop, dict()),
        cfg('lr', O.Rprop, dict(lr=0.05)),
        cfg('etas', O.Rprop, dict(etas=(0.3, 1.5))),
        cfg('step_sizes', O.Rprop, dict(lr=0.02, step_sizes=(1e-3, 0.05))),
        cfg('maximize', O.Rprop, dict(lr=1e-3, maximize=True)),
        cfg('groups', O.Rprop, dict(), groups=[dict(lr=0.02), dict(lr=0.005, etas=(0.4, 1.1))]),
    ],
    'asgd': [
        cfg('default', O.ASGD, dict(lr=1e-3)),
        cfg('t0', O.ASGD, dict(lr=1e-3, t0=5)),
        cfg('lambd_alpha', O.ASGD, dict(lr=1e-3, lambd=1e-1, alpha=0.5, t0=3)),
        cfg('weight_decay', O.ASGD, dict(lr=1e-3, weight_decay=0.1, t0=10)),
        cfg('maximize', O.ASGD, dict(lr=1e-5, maximize=True, t0=2)),
        cfg('groups', O.ASGD, dict(lr=1e-3, t0=4), groups=[dict(lr=1e-3), dict(lr=2e-4, lambd=0.05)]),
    ],
    # NOTE: LBFGS amplifies last-bit differences in the gradients (PyTorch's vectorised kernels
    # use FMA; our autograd rounds in its own order) over its many inner iterations, chaotically
    # on the non-convex problems. These configurations keep the amplification below 1e-9 over
    # 25 steps on all three problems; long runs (max_iter=20) converge by tolerance first.
    'lbfgs': [
        cfg('fixed_step', O.LBFGS, dict(lr=0.1, max_iter=2), closure_step=True),
        cfg('fixed_step_history', O.LBFGS, dict(lr=0.05, max_iter=2, history_size=2), closure_step=True),
        cfg('fixed_step_max_iter', O.LBFGS, dict(lr=0.1, max_iter=3, history_size=4), closure_step=True),
        cfg('strong_wolfe', O.LBFGS, dict(max_iter=2, line_search_fn='strong_wolfe'), closure_step=True),
        cfg('strong_wolfe_history', O.LBFGS, dict(lr=0.8, max_iter=2, history_size=3, line_search_fn='strong_wolfe'), closure_step=True),
        cfg('strong_wolfe_lr', O.LBFGS, dict(lr=0.5, max_iter=3, line_search_fn='strong_wolfe'), closure_step=True),
        cfg('max_eval', O.LBFGS, dict(lr=0.7, max_iter=4, max_eval=3, line_search_fn='strong_wolfe'), closure_step=True),
        cfg('tolerances', O.LBFGS, dict(max_iter=20, tolerance_grad=1e-2, tolerance_change=1e-3, line_search_fn='strong_wolfe'), closure_step=True),
    ],
}


def optimizer_fixtures():
    total = 0
    for name, configs in GRID.items():
        out = []
        for c in configs:
            groups = c['groups']
            make = c['ref'] or (lambda ps, c=c: c['ctor'](ps, **c['options']))
            entry = dict(name=c['name'], options=to_camel(c['options']), source=c['source'], trajectories={})
            if groups is not None:
                entry['groups'] = [to_camel(g) for g in groups]
            losses = {}
            for problem in PROBLEMS:
                traj, ls = trajectory(make, problem, groups, c['closure_step'])
                entry['trajectories'][problem] = traj
                if ls:
                    losses[problem] = ls
            if losses:
                entry['losses'] = losses
            out.append(entry)
        total += len(out)
        write(f'{name}.json', dict(configs=out))
    print(f'{total} optimizer configurations')


# ------------------------------------------------------------------ schedulers

S = torch.optim.lr_scheduler
SCHED_STEPS = 60
LAMBDAS = {
    'exp95': lambda e: 0.95 ** e,
    'inv': lambda e: 1.0 / (e + 1),
    'warmup10': lambda e: min(1.0, (e + 1) / 10),
    'const95': lambda e: 0.95,
    'every3': lambda e: 0.9 if e % 3 == 0 else 1.0,
    'sinScale': lambda x: 0.5 * (1 + math.sin(x * math.pi / 2)),
    'iterDecay': lambda x: 1 / (1 + 0.05 * x),
}
PLATEAU_METRICS = [1.0 / (1 + 0.2 * i) for i in range(12)] + [0.5 + 0.01 * ((i * 7) % 5) for i in range(20)] + \
    [0.45 - 0.001 * i for i in range(10)] + [0.44 + 0.02 * ((i * 3) % 4) for i in range(18)]


def sched(name, kind, options=None, opt='sgd', lrs=(0.1,), lambdas=None, children=None, metrics=None, epochs=None,
          source='torch-1.13', ref_opt=None):
    return dict(name=name, kind=kind, options=options or {}, opt=opt, lrs=list(lrs), lambdas=lambdas, children=children,
                metrics=metrics, epochs=epochs, source=source, ref_opt=ref_opt)


def child(kind, options=None, lambdas=None):
    return dict(kind=kind, options=options or {}, lambdas=lambdas)


SCHED_GRID = [
    sched('lambda_exp', 'LambdaLR', lambdas=['exp95']),
    sched('lambda_inv', 'LambdaLR', lambdas=['inv']),
    sched('lambda_per_group', 'LambdaLR', lrs=(0.1, 0.05), lambdas=['warmup10', 'exp95']),
    sched('multiplicative_const', 'MultiplicativeLR', lambdas=['const95']),
    sched('multiplicative_every3', 'MultiplicativeLR', lrs=(0.1, 0.02), lambdas=['every3']),
    sched('multiplicative_per_group', 'MultiplicativeLR', lrs=(0.1, 0.2), lambdas=['every3', 'const95']),
    sched('step_7', 'StepLR', dict(step_size=7, gamma=0.5)),
    sched('step_1', 'StepLR', dict(step_size=1, gamma=0.9)),
    sched('step_groups', 'StepLR', dict(step_size=10), lrs=(0.1, 0.3)),
    sched('step_epochs', 'StepLR', dict(step_size=4, gamma=0.5), epochs=[2 * i + (i % 3) for i in range(1, SCHED_STEPS + 1)]),
    sched('multistep', 'MultiStepLR', dict(milestones=[10, 25, 40])),
    sched('multistep_repeated', 'MultiStepLR', dict(milestones=[20, 5, 5, 33], gamma=0.5), lrs=(0.1, 0.01)),
    sched('multistep_epochs', 'MultiStepLR', dict(milestones=[3, 7, 7, 30], gamma=0.5), epochs=list(range(0, 2 * SCHED_STEPS, 2))),
    sched('constant_default', 'ConstantLR'),
    sched('constant_long', 'ConstantLR', dict(factor=0.5, total_iters=20), lrs=(0.1, 0.2)),
    sched('constant_epochs', 'ConstantLR', dict(factor=0.25, total_iters=9), epochs=list(range(1, SCHED_STEPS + 1))),
    sched('linear_default', 'LinearLR'),
    sched('linear_ramp', 'LinearLR', dict(start_factor=0.25, end_factor=0.75, total_iters=30)),
    sched('linear_decay', 'LinearLR', dict(start_factor=1.0, end_factor=0.1, total_iters=60), lrs=(0.1, 0.5)),
    sched('linear_epochs', 'LinearLR', dict(start_factor=0.1, total_iters=20), epochs=list(range(1, SCHED_STEPS + 1))),
    sched('exponential', 'ExponentialLR', dict(gamma=0.95)),
    sched('exponential_groups', 'ExponentialLR', dict(gamma=0.8), lrs=(1.0, 0.01)),
    sched('exponential_epochs', 'ExponentialLR', dict(gamma=0.9), epochs=[i // 2 for i in range(1, SCHED_STEPS + 1)]),
    sched('polynomial_default', 'PolynomialLR'),
    sched('polynomial_linear', 'PolynomialLR', dict(total_iters=30, power=1.0)),
    sched('polynomial_power', 'PolynomialLR', dict(total_iters=40, power=2.5), lrs=(0.1, 0.05)),
    sched('cosine_10', 'CosineAnnealingLR', dict(T_max=10)),
    sched('cosine_eta_min', 'CosineAnnealingLR', dict(T_max=25, eta_min=0.01)),
    sched('cosine_groups', 'CosineAnnealingLR', dict(T_max=60, eta_min=0.001), lrs=(0.1, 0.5)),
    sched('cosine_epochs', 'CosineAnnealingLR', dict(T_max=15), epochs=[i * 3 for i in range(1, SCHED_STEPS + 1)]),
    sched('chained_constant_exp', 'ChainedScheduler', children=[child('ConstantLR', dict(factor=0.1, total_iters=3)), child('ExponentialLR', dict(gamma=0.9))]),
    sched('chained_linear_step', 'ChainedScheduler', lrs=(0.1, 0.05), children=[child('LinearLR', dict(start_factor=0.5, total_iters=10)), child('StepLR', dict(step_size=15, gamma=0.3))]),
    sched('chained_three', 'ChainedScheduler', children=[child('ExponentialLR', dict(gamma=0.99)), child('MultiStepLR', dict(milestones=[20, 40])), child('CosineAnnealingLR', dict(T_max=12))]),
    sched('sequential_warmup_cosine', 'SequentialLR', dict(milestones=[5]), children=[child('LinearLR', dict(start_factor=0.1, total_iters=5)), child('CosineAnnealingLR', dict(T_max=30))]),
    sched('sequential_three', 'SequentialLR', dict(milestones=[10, 30]), lrs=(0.1, 0.2), children=[child('ConstantLR', dict(factor=0.5, total_iters=10)), child('ExponentialLR', dict(gamma=0.9)), child('StepLR', dict(step_size=5, gamma=0.5))]),
    sched('sequential_lambda_multiplicative', 'SequentialLR', dict(milestones=[12]), children=[child('LambdaLR', lambdas=['warmup10']), child('MultiplicativeLR', lambdas=['const95'])]),
    sched('plateau_min', 'ReduceLROnPlateau', dict(patience=3), metrics=PLATEAU_METRICS),
    sched('plateau_max_abs', 'ReduceLROnPlateau', dict(mode='max', threshold=0.01, threshold_mode='abs', patience=2, cooldown=2, factor=0.5), metrics=[-m for m in PLATEAU_METRICS]),
    sched('plateau_min_lr_groups', 'ReduceLROnPlateau', dict(patience=1, factor=0.5, min_lr=[0.02, 0.001]), lrs=(0.1, 0.05), metrics=PLATEAU_METRICS),
    sched('plateau_eps', 'ReduceLROnPlateau', dict(patience=0, factor=0.5, eps=0.01, threshold=0.05), metrics=PLATEAU_METRICS),
    sched('plateau_max_rel_cooldown', 'ReduceLROnPlateau', dict(mode='max', patience=1, cooldown=3, threshold=0.02), metrics=[1 - m for m in PLATEAU_METRICS]),
    sched('plateau_min_abs', 'ReduceLROnPlateau', dict(threshold_mode='abs', threshold=0.005, patience=4, min_lr=0.005), metrics=PLATEAU_METRICS),
    sched('cyclic_triangular', 'CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=5)),
    sched('cyclic_triangular2', 'CyclicLR', dict(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=7, mode='triangular2')),
    sched('cyclic_exp_range', 'CyclicLR', dict(base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=6, mode='exp_range', gamma=0.97, base_momentum=0.85, max_momentum=0.95), lrs=(0.1, 0.05)),
    sched('cyclic_scale_fn_cycle', 'CyclicLR', dict(base_lr=0.001, max_lr=0.01, step_size_up=3), lambdas=['sinScale']),
    sched('cyclic_scale_fn_iterations', 'CyclicLR', dict(base_lr=0.001, max_lr=0.01, step_size_up=8, step_size_down=2, scale_mode='iterations'), lambdas=['iterDecay']),
    sched('cyclic_no_momentum', 'CyclicLR', dict(base_lr=0.02, max_lr=0.2, step_size_up=10, cycle_momentum=False)),
    sched('cyclic_adam_beta1', 'CyclicLR', dict(base_lr=0.001, max_lr=0.006, step_size_up=7, base_momentum=0.8, max_momentum=0.9), opt='adam',
          source='reference', ref_opt='sgd'),
    sched('onecycle_cos', 'OneCycleLR', dict(max_lr=0.1, total_steps=60)),
    sched('onecycle_linear', 'OneCycleLR', dict(max_lr=0.1, total_steps=60, anneal_strategy='linear', pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    sched('onecycle_three_phase', 'OneCycleLR', dict(max_lr=[0.1, 0.05], epochs=6, steps_per_epoch=10, three_phase=True), lrs=(0.1, 0.05)),
    sched('onecycle_adam', 'OneCycleLR', dict(max_lr=0.01, total_steps=60, base_momentum=0.8, max_momentum=0.9), opt='adam'),
    sched('onecycle_no_momentum', 'OneCycleLR', dict(max_lr=0.3, total_steps=70, cycle_momentum=False, pct_start=0.4)),
    sched('warm_restarts', 'CosineAnnealingWarmRestarts', dict(T_0=10)),
    sched('warm_restarts_mult', 'CosineAnnealingWarmRestarts', dict(T_0=5, T_mult=2, eta_min=0.001), lrs=(0.1, 0.05)),
    sched('warm_restarts_mult3', 'CosineAnnealingWarmRestarts', dict(T_0=3, T_mult=3)),
    sched('warm_restarts_fractional', 'CosineAnnealingWarmRestarts', dict(T_0=4, T_mult=2, eta_min=0.01), epochs=[0.35 * i for i in range(1, SCHED_STEPS + 1)]),
    sched('warm_restarts_fractional_mult1', 'CosineAnnealingWarmRestarts', dict(T_0=6), epochs=[0.7 * i for i in range(1, SCHED_STEPS + 1)]),
]

SCALE_FNS = {'sinScale', 'iterDecay'}


def make_scheduler(kind, opt, options, lambdas, children):
    kw = dict(options)
    if kind in ('LambdaLR', 'MultiplicativeLR'):
        fns = [LAMBDAS[n] for n in lambdas]
        kw['lr_lambda'] = fns[0] if len(fns) == 1 else fns
    if kind == 'CyclicLR' and lambdas:
        kw['scale_fn'] = LAMBDAS[lambdas[0]]
    if kind == 'ChainedScheduler':
        return S.ChainedScheduler([make_scheduler(c['kind'], opt, c['options'], c['lambdas'], None) for c in children])
    if kind == 'SequentialLR':
        subs = [make_scheduler(c['kind'], opt, c['options'], c['lambdas'], None) for c in children]
        return S.SequentialLR(opt, subs, **kw)
    if kind == 'SWALR':
        return torch.optim.swa_utils.SWALR(opt, **kw)
    return getattr(S, kind)(opt, **kw)


def momentum_of(group):
    if 'betas' in group:
        return group['betas'][0]
    return group.get('momentum')


def scheduler_run(c, opt_kind):
    params = [torch.zeros(2, requires_grad=True) for _ in c['lrs']]
    groups = [dict(params=[p], lr=lr) for p, lr in zip(params, c['lrs'])]
    opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9) if opt_kind == 'sgd' else torch.optim.Adam(groups, lr=0.1)
    s = make_scheduler(c['kind'], opt, c['options'], c['lambdas'], c['children'])
    lrs = [[g['lr'] for g in opt.param_groups]]
    moms = [[momentum_of(g) for g in opt.param_groups]]
    for i in range(SCHED_STEPS):
        opt.step()
        if c['metrics'] is not None:
            s.step(c['metrics'][i])
        elif c['epochs'] is not None:
            s.step(c['epochs'][i])
        else:
            s.step()
        lrs.append([g['lr'] for g in opt.param_groups])
        moms.append([momentum_of(g) for g in opt.param_groups])
        assert (s._last_lr if c['kind'] == 'ReduceLROnPlateau' else s.get_last_lr()) == lrs[-1]
    return lrs, moms


def scheduler_fixtures():
    import warnings
    warnings.simplefilter('ignore')
    out = []
    for c in SCHED_GRID + SWALR_GRID:
        lrs, moms = scheduler_run(c, c['ref_opt'] or c['opt'])
        entry = dict(name=c['name'], kind=c['kind'], options=to_camel(c['options']), optimizer=c['opt'], lrs=lrs, source=c['source'])
        entry['groupLrs'] = c['lrs']
        for k in ('lambdas', 'metrics', 'epochs'):
            if c[k] is not None:
                entry[k] = c[k]
        if c['children'] is not None:
            entry['children'] = [dict(kind=ch['kind'], options=to_camel(ch['options']), **({'lambdas': ch['lambdas']} if ch['lambdas'] else {})) for ch in c['children']]
        cycles = c['kind'] in ('CyclicLR', 'OneCycleLR') and c['options'].get('cycle_momentum', True)
        if cycles:
            entry['momentum'] = moms
        out.append(entry)
    write('schedulers.json', dict(configs=out))
    kinds = sorted({c['kind'] for c in SCHED_GRID + SWALR_GRID})
    print(f'{len(out)} scheduler configurations over {len(kinds)} schedulers')


# ------------------------------------------------------------------ SWALR (in schedulers.json)

SWALR_GRID = [
    sched('swalr_cos', 'SWALR', dict(swa_lr=0.05, anneal_epochs=10)),
    sched('swalr_linear', 'SWALR', dict(swa_lr=0.01, anneal_epochs=5, anneal_strategy='linear'), lrs=(0.1, 0.2)),
    sched('swalr_no_anneal', 'SWALR', dict(swa_lr=0.02, anneal_epochs=0)),
    sched('swalr_groups', 'SWALR', dict(swa_lr=[0.05, 0.001], anneal_epochs=30), lrs=(0.1, 0.01)),
]


# ------------------------------------------------------------------ clip_grad_norm_ / clip_grad_value_

def tensor_record(t):
    return dict(shape=list(t.shape), dtype=str(t.dtype).replace('torch.', ''), data=t.reshape(-1).tolist())


def clip_fixtures():
    g = torch.Generator().manual_seed(99)
    shapes = [[3, 4], [5], [2, 2, 2]]
    norm_cases = [
        dict(max_norm=1.0, norm_type=2.0),
        dict(max_norm=0.5, norm_type=1.0),
        dict(max_norm=0.7, norm_type=math.inf),
        dict(max_norm=2.0, norm_type=3.5),
        dict(max_norm=1.5, norm_type=0.5),
        dict(max_norm=100.0, norm_type=2.0),
        dict(max_norm=3.0, norm_type=2.0, missing_grad=True),
        dict(max_norm=1.0, norm_type=2.0, single=True),
        dict(max_norm=0.25, norm_type=math.inf, dtype='float32'),
        dict(max_norm=1.0, norm_type=2.0, dtype='float32', scale=3.0),
    ]
    out_norm = []
    for c in norm_cases:
        dtype = torch.float32 if c.get('dtype') == 'float32' else torch.float64
        sh = shapes[:1] if c.get('single') else shapes
        grads = [torch.randn(*s, generator=g, dtype=torch.float64).to(dtype) * c.get('scale', 1.0) for s in sh]
        params = [torch.zeros(*s, dtype=dtype, requires_grad=True) for s in sh]
        for p, gr in zip(params, grads):
            p.grad = gr.clone()
        if c.get('missing_grad'):
            params[1].grad = None
            grads[1] = None
        total = torch.nn.utils.clip_grad_norm_(params, c['max_norm'], norm_type=c['norm_type'])
        out_norm.append(dict(
            maxNorm=c['max_norm'], normType='inf' if c['norm_type'] == math.inf else c['norm_type'],
            grads=[tensor_record(gr) if gr is not None else None for gr in grads],
            totalNorm=total.item(),
            clipped=[tensor_record(p.grad) if p.grad is not None else None for p in params]))
    out_value = []
    for clip in [0.1, 0.5, 2.0]:
        grads = [torch.randn(*s, generator=g, dtype=torch.float64) for s in shapes]
        params = [torch.zeros(*s, requires_grad=True) for s in shapes]
        for p, gr in zip(params, grads):
            p.grad = gr.clone()
        torch.nn.utils.clip_grad_value_(params, clip)
        out_value.append(dict(clipValue=clip, grads=[tensor_record(gr) for gr in grads], clipped=[tensor_record(p.grad) for p in params]))
    write('clip.json', dict(norm=out_norm, value=out_value))


# ------------------------------------------------------------------ swa_utils

def camel_key(k):
    *head, last = k.split('.')
    return '.'.join(head + [camel(last)])


def state_record(module):
    return {camel_key(k): tensor_record(v) for k, v in module.state_dict().items()}


def swa_fixtures():
    from torch.optim.swa_utils import AveragedModel, update_bn
    g = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    X = torch.randn(16, 3, generator=g)
    Y = torch.randn(16, 2, generator=g)
    Xtest = torch.randn(5, 3, generator=g)
    init = state_record(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    states = []
    for i in range(8):
        opt.zero_grad()
        loss = ((model(X[(i % 2) * 8:(i % 2) * 8 + 8]) - Y[(i % 2) * 8:(i % 2) * 8 + 8]) ** 2).mean()
        loss.backward()
        opt.step()
        states.append(state_record(model))

    def ema(decay):
        return lambda e, c, n: decay * e + (1 - decay) * c

    def ema_lerp(decay):
        return lambda e, c, n: torch.lerp(e, c, 1 - decay)

    configs = [
        dict(name='swa', options={}, avg=None),
        dict(name='ema', options=dict(avgFn='ema', decay=0.9), avg=ema(0.9)),
        dict(name='ema_multi', options=dict(multiAvgFn='ema', decay=0.3), avg=ema_lerp(0.3)),
        dict(name='swa_buffers', options=dict(useBuffers=True), avg=None, use_buffers=True),
        dict(name='ema_buffers', options=dict(useBuffers=True, avgFn='ema', decay=0.95), avg=ema(0.95), use_buffers=True),
    ]
    out = []
    for c in configs:
        model.load_state_dict({k: v for k, v in zip(model.state_dict().keys(), [torch.tensor(init[camel_key(k)]['data']).reshape(init[camel_key(k)]['shape']).to(v.dtype) for k, v in model.state_dict().items()])})
        swa = AveragedModel(model, avg_fn=c['avg'], use_buffers=c.get('use_buffers', False))
        averaged = []
        for st in states:
            model.load_state_dict({k: torch.tensor(st[camel_key(k)]['data']).reshape(st[camel_key(k)]['shape']).to(v.dtype) for k, v in model.state_dict().items()})
            swa.update_parameters(model)
            if not c.get('use_buffers', False):
                # PyTorch 2.x keeps buffers in sync with the model when they are not averaged
                for b_swa, b_model in zip(swa.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach())
            averaged.append(dict(state=state_record(swa.module), nAveraged=int(swa.n_averaged)))
        update_bn([X[:8], X[8:]], swa)
        after_bn = state_record(swa.module)
        swa.eval()
        with torch.no_grad():
            out_test = swa(Xtest)
        out.append(dict(name=c['name'], options=c['options'], averaged=averaged, afterUpdateBn=after_bn, output=tensor_record(out_test)))
    write('swa.json', dict(init=init, states=states, X=X.tolist(), Xtest=Xtest.tolist(), configs=out))


if __name__ == '__main__':
    check_references()
    write('problems.json', PROBLEMS)
    optimizer_fixtures()
    scheduler_fixtures()
    clip_fixtures()
    swa_fixtures()
