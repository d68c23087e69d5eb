"use client";

import { VRMLoaderPlugin, VRMUtils, type VRM } from "@pixiv/three-vrm";
import { useEffect, useRef } from "react";
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";
import { listenToSpeech, speechLevel } from "../speech/speech-level";
import { idleMotion, mouthFromLevel } from "./motion";

export interface AvatarCanvasProps {
  url: string;
  /** Called once the model is on screen (the poster can go), or with the error that kept it away. */
  onReady?: () => void;
  onError?: (error: unknown) => void;
  /** Orbit with the pointer (the character page); the chat's avatar only looks at the reader. */
  orbit?: boolean;
}

/**
 * The 3D viewer: three.js, with three-vrm for VRM models. A VRM speaks with the character's voice
 * (its `aa` expression follows the loudness of the speech being heard), blinks, breathes and looks
 * at the viewer; a plain GLB (a generated model has no rig) sways gently and swells a little with
 * the voice. Loaded only where an avatar is shown (next/dynamic), so other pages carry no 3D code.
 */
export default function AvatarCanvas({ url, onReady, onError, orbit = true }: AvatarCanvasProps) {
  const host = useRef<HTMLDivElement>(null);
  const callbacks = useRef({ onReady, onError });
  useEffect(() => {
    callbacks.current = { onReady, onError };
  }, [onReady, onError]);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    let disposed = false;
    let renderer: THREE.WebGLRenderer;
    try {
      renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, powerPreference: "low-power" });
    } catch (error) {
      // No WebGL here (disabled, or no GPU and no software fallback): the portrait stays.
      callbacks.current.onError?.(error);
      return;
    }
    renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    renderer.outputColorSpace = THREE.SRGBColorSpace;
    element.appendChild(renderer.domElement);
    renderer.domElement.setAttribute("aria-hidden", "true");

    const scene = new THREE.Scene();
    const camera = new THREE.PerspectiveCamera(30, 1, 0.05, 100);
    scene.add(new THREE.HemisphereLight(0xffffff, 0x3b3355, 2.2));
    const key = new THREE.DirectionalLight(0xffffff, 2);
    key.position.set(1, 2, 3);
    scene.add(key);
    const controls = new OrbitControls(camera, renderer.domElement);
    controls.enabled = orbit;
    controls.enableDamping = true;
    controls.enablePan = false;

    // What the camera keeps in view (set once the model is in); the distance follows the shape
    // of the canvas, so a tall panel beside the chat and a wide one on the character page both fit it.
    let framing: Framing | null = null;
    const resize = () => {
      const { clientWidth: width, clientHeight: height } = element;
      if (width === 0 || height === 0) return;
      renderer.setSize(width, height, false);
      renderer.domElement.style.width = "100%";
      renderer.domElement.style.height = "100%";
      camera.aspect = width / height;
      camera.updateProjectionMatrix();
      if (framing) placeCamera(framing, camera, controls);
    };
    const resizing = new ResizeObserver(resize);
    resizing.observe(element);
    resize();

    const stopListening = listenToSpeech();
    const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    let vrm: VRM | null = null;
    let model: THREE.Object3D | null = null;
    let mouth = 0;
    let shownMouth = "";
    const timer = new THREE.Timer();
    // Drawn only while on screen: an avatar scrolled away costs nothing.
    let visible = true;
    const seen = new IntersectionObserver(([entry]) => (visible = entry?.isIntersecting ?? true));
    seen.observe(element);

    const loader = new GLTFLoader();
    loader.register((parser) => new VRMLoaderPlugin(parser));
    loader
      .loadAsync(url)
      .then((gltf) => {
        if (disposed) return;
        vrm = (gltf.userData.vrm as VRM | undefined) ?? null;
        if (vrm) {
          VRMUtils.removeUnnecessaryVertices(gltf.scene);
          VRMUtils.rotateVRM0(vrm);
          if (vrm.lookAt) vrm.lookAt.target = camera;
          relaxArms(vrm);
        }
        model = vrm?.scene ?? gltf.scene;
        scene.add(model);
        framing = framingOf(model, vrm);
        placeCamera(framing, camera, controls);
        element.dataset.loaded = vrm ? "vrm" : "glb";
        callbacks.current.onReady?.();
      })
      .catch((error: unknown) => {
        if (!disposed) callbacks.current.onError?.(error);
      });

    renderer.setAnimationLoop(() => {
      timer.update();
      const delta = Math.min(timer.getDelta(), 0.1);
      const time = timer.getElapsed();
      // Smoothed so the mouth does not flutter with every syllable's peak, but opens within a frame.
      mouth = mouthFromLevel(speechLevel(), mouth);
      if (!visible || !model) return;
      const idle = idleMotion(time, reducedMotion);
      if (vrm) {
        vrm.expressionManager?.setValue("aa", mouth);
        vrm.expressionManager?.setValue("blink", idle.blink);
        const chest = vrm.humanoid?.getNormalizedBoneNode("chest") ?? vrm.humanoid?.getNormalizedBoneNode("spine");
        if (chest) chest.rotation.x = idle.breath * 0.03;
        vrm.update(delta);
      } else {
        model.rotation.y = idle.sway * 0.15;
        model.scale.setScalar(1 + mouth * 0.04 + idle.breath * 0.01);
      }
      // The mouth's weight as the model holds it for this frame (a VRM's `aa` expression), for tests and tools.
      const shown = (vrm?.expressionManager?.getValue("aa") ?? mouth).toFixed(2);
      if (shown !== shownMouth) element.dataset.mouth = shownMouth = shown;
      controls.update();
      renderer.render(scene, camera);
    });

    return () => {
      disposed = true;
      stopListening();
      renderer.setAnimationLoop(null);
      resizing.disconnect();
      seen.disconnect();
      controls.dispose();
      if (vrm) VRMUtils.deepDispose(vrm.scene);
      else if (model) disposeObject(model);
      renderer.dispose();
      renderer.domElement.remove();
    };
  }, [url, orbit]);

  return <div ref={host} className="size-full touch-none" data-testid="avatar-canvas" />;
}

/**
 * A VRM is stored in a T-pose, arms straight out: beside a chat that reads as a scarecrow, and the
 * arms' span would decide the framing. Its upper arms are lowered along the body instead (on the
 * normalized rig, which faces +Z whatever the VRM version, so the same angles work for both).
 */
function relaxArms(vrm: VRM) {
  const humanoid = vrm.humanoid;
  const left = humanoid.getNormalizedBoneNode("leftUpperArm");
  const right = humanoid.getNormalizedBoneNode("rightUpperArm");
  if (left) left.rotation.z = -1.2;
  if (right) right.rotation.z = 1.2;
  const leftLower = humanoid.getNormalizedBoneNode("leftLowerArm");
  const rightLower = humanoid.getNormalizedBoneNode("rightLowerArm");
  if (leftLower) leftLower.rotation.y = -0.15;
  if (rightLower) rightLower.rotation.y = 0.15;
  vrm.update(0);
}

/** The part of a model the camera frames: its centre, and how tall, wide and deep it is. */
interface Framing {
  target: THREE.Vector3;
  height: number;
  width: number;
  depth: number;
}

/**
 * A VRM is a person: its upper body, from the hips to the top of the head, where the face is. A
 * plain GLB (a generated bust, an object) is framed whole; it sways about its vertical axis, so
 * its width is taken as the wider of its two horizontal sides.
 */
function framingOf(model: THREE.Object3D, vrm: VRM | null): Framing {
  model.updateMatrixWorld(true);
  // A VRM's meshes are skinned: measured where its bones put the vertices (the relaxed arms).
  const box = new THREE.Box3().setFromObject(model, vrm !== null);
  const size = box.getSize(new THREE.Vector3());
  const center = box.getCenter(new THREE.Vector3());
  const hips = vrm?.humanoid.getRawBoneNode("hips")?.getWorldPosition(new THREE.Vector3());
  if (vrm && hips && hips.y > box.min.y && hips.y < box.max.y) {
    const height = box.max.y - hips.y;
    return { target: new THREE.Vector3(center.x, hips.y + height / 2, center.z), height, width: size.x, depth: size.z };
  }
  // A VRM without hips inside its meshes (hardly a person) is framed whole, like a GLB.
  const across = Math.max(size.x, size.z);
  return { target: center, height: size.y, width: across, depth: across };
}

/**
 * Puts the camera in front of the framing, as close as lets all of it fit both the canvas's height
 * and its width with a little margin; keeps the direction the reader may have orbited to.
 */
function placeCamera(framing: Framing, camera: THREE.PerspectiveCamera, controls: OrbitControls) {
  const vertical = Math.tan((camera.fov * Math.PI) / 360);
  const horizontal = vertical * camera.aspect;
  const fit = Math.max(framing.height / 2 / vertical, framing.width / 2 / horizontal) * 1.12;
  const distance = Math.max(fit + framing.depth / 2, 0.01);
  const direction = camera.position.clone().sub(controls.target);
  if (direction.lengthSq() < 1e-12) direction.set(0, 0, 1);
  camera.position.copy(framing.target).addScaledVector(direction.normalize(), distance);
  camera.near = distance / 100;
  camera.far = distance * 100;
  camera.updateProjectionMatrix();
  controls.target.copy(framing.target);
  controls.minDistance = distance * 0.4;
  controls.maxDistance = distance * 3;
  controls.update();
}

function disposeObject(root: THREE.Object3D) {
  root.traverse((node) => {
    if (node instanceof THREE.Mesh) {
      node.geometry.dispose();
      for (const material of [node.material].flat()) {
        for (const value of Object.values(material)) if (value instanceof THREE.Texture) value.dispose();
        material.dispose();
      }
    }
  });
}
