#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

A module's dependencies are the `crate::name` paths in its code (comments
and tests aside). Run from the repository's root; exit status 1 and the
circles found, if any.
"""
import os,re,sys
def crate_modules(src):
    mods={}
    for root,_,files in os.walk(src):
        for f in files:
            if f.endswith('.rs'):
                p=os.path.join(root,f); rel=os.path.relpath(p,src)[:-3]
                name=rel.split('/')[0]
                if name in ('lib','main'): continue
                name=name.replace('/mod','')
                mods.setdefault(name,[]).append(p)
    return mods
def cycles(src):
    mods=crate_modules(src); g={}
    for m,files in mods.items():
        deps=set()
        for p in files:
            t=open(p).read()
            t=t.split('#[cfg(test)]')[0]; t='\n'.join(l for l in t.split('\n') if not l.strip().startswith('//'))
            for d in re.findall(r'crate::(\w+)',t):
                if d in mods and d!=m: deps.add(d)
            for block in re.findall(r'use crate::\{([^;]*)\}',t):
                for d in re.findall(r'(?:^|[\s,{])(\w+)(?:::|[,}\s]|$)',block):
                    if d in mods and d!=m: deps.add(d)
        g[m]=deps
    # find cycles via DFS
    found=set()
    def dfs(n,stack):
        for d in g[n]:
            if d in stack:
                c=stack[stack.index(d):]; found.add(tuple(sorted(c)))
            elif len(stack)<8: dfs(d,stack+[d])
    for n in g: dfs(n,[n])
    return found
failed = False
for crate in ['amqp/src', 'common/src', 'crawler/src', 'indexer/src', 'query-api/src', 'src', 'test-support/src']:
    found = cycles(crate)
    for cycle in sorted(found):
        print(f"{crate}: modules in a circle: {' <-> '.join(cycle)}")
        failed = True
sys.exit(1 if failed else 0)
